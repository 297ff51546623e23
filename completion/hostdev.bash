# bash completion for hostdev: commands, their options, device addresses, interface names and
# VM names, read from the host (or the --root given on the line) as the user types.
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): words without blanks, the idiom
_hostdev_run()
{
    # hostdev itself, with the line's --root and --state-dir (and nothing that could write).
    command hostdev ${_hostdev_root:+--root "$_hostdev_root"} \
        ${_hostdev_state:+--state-dir "$_hostdev_state"} --names none "$@" 2>/dev/null
}

_hostdev_vms()
{
    # The VMs the assignment map names.
    _hostdev_run assignments | awk 'NR > 1 { print $2 }' | sort -u
}

_hostdev_mdevs()
{
    # The UUIDs of `mdev list` (or `mdev defined`): not the words of "no mediated devices".
    _hostdev_run mdev "${1:-list}" |
        awk 'length($1) == 36 && $1 ~ /^[0-9a-fA-F-]+$/ { print $1 }'
}

_hostdev_devs()
{
    # The addresses `list ARGS` lists, and the network interfaces that name devices too.
    _hostdev_run list "$@" | awk '{ print $1 }
        { for (f = 2; f <= NF; f++) if ($f ~ /^if=/) { sub(/^if=/, "", $f);
          n = split($f, a, ","); for (k = 1; k <= n; k++) print a[k] } }'
}

_hostdev_commands()
{
    # The commands of `hostdev --help`'s table.
    command hostdev --help 2>/dev/null |
        awk '/^Commands:/ { on = 1; next } on && !NF { exit } on { print $1 }'
}

_hostdev_drivers()
{
    # The PCI drivers of the line's root.
    ls "${_hostdev_root:-}/sys/bus/pci/drivers" 2>/dev/null
}

# The completion itself, named apart from zsh's _hostdev (the file that runs this one there).
_hostdev_complete()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local i cmd='' _hostdev_root='' _hostdev_state=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --root | -r) _hostdev_root=${COMP_WORDS[i+1]}; ((i++)) ;;
        --root=*) _hostdev_root=${COMP_WORDS[i]#--root=} ;;
        --state-dir) _hostdev_state=${COMP_WORDS[i+1]}; ((i++)) ;;
        --state-dir=*) _hostdev_state=${COMP_WORDS[i]#--state-dir=} ;;
        --timeout | -t | --names) ((i++)) ;;
        -*) ;;
        *) [ -z "$cmd" ] && cmd=${COMP_WORDS[i]} ;;
        esac
    done
    case $prev in
    --root | -r | --state-dir | --names | --domain-xml | -x | --output | --rom-file | --merge)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    -o)
        # export's output file; acquire's owner.
        if [ "$cmd" = acquire ]; then
            COMPREPLY=($(compgen -u -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return
        ;;
    --owner)
        COMPREPLY=($(compgen -u -- "$cur"))
        return
        ;;
    --mdev-type)
        # export's: the type ids parents offer (`mdev types`).
        COMPREPLY=($(compgen -W "$(_hostdev_run mdev types | awk '{ print $2 }' | sort -u)" \
            -- "$cur"))
        return
        ;;
    --driver | -d)
        # The values each command's --driver takes (list -d also takes lspci's ids).
        case $cmd in
        detach) COMPREPLY=($(compgen -W "vfio vfio-pci pci-stub $(_hostdev_drivers |
            grep '_vfio_pci$')" -- "$cur")) ;;
        persist) COMPREPLY=($(compgen -W "vfio-pci pci-stub $(_hostdev_drivers |
            grep '_vfio_pci$')" -- "$cur")) ;;
        list) COMPREPLY=($(compgen -W "none $(_hostdev_drivers)" -- "$cur")) ;;
        hostdev-xml) COMPREPLY=($(compgen -W "vfio none" -- "$cur")) ;;
        cmdline) COMPREPLY=($(compgen -W "vfio-pci pci-stub" -- "$cur")) ;;
        esac
        return
        ;;
    --managed | -m)
        # hostdev-xml's yes|no; acquire's, release's, migratable's and assignments' -m is --vm
        # (acquire's --managed takes no value).
        case $cmd/$prev in
        hostdev-xml/*)
            COMPREPLY=($(compgen -W "yes no" -- "$cur"))
            return
            ;;
        acquire/-m | release/-m | migratable/-m | assignments/-m)
            COMPREPLY=($(compgen -W "$(_hostdev_vms)" -- "$cur"))
            return
            ;;
        esac
        ;;
    --rom-bar)
        COMPREPLY=($(compgen -W "on off" -- "$cur"))
        return
        ;;
    --caps | -c)
        if [ "$cmd" = list ]; then
            # Comma-separated: complete the word after the last comma.
            local done=${cur%"${cur##*,}"}
            COMPREPLY=($(compgen -P "$done" -W "pci usb_device usb net scsi_host scsi_target
                scsi storage scsi_generic system mdev_types mdev" -- "${cur##*,}"))
            return
        fi
        ;;
    --subsystem | -s)
        if [ "$cmd" = monitor ]; then
            COMPREPLY=($(compgen -W "pci usb scsi net block all" -- "$cur"))
            return
        fi
        ;;
    --vm)
        COMPREPLY=($(compgen -W "$(_hostdev_vms)" -- "$cur"))
        return
        ;;
    --format)
        case $cmd in
        export) COMPREPLY=($(compgen -W "kubevirt nfd nova sriovdp prometheus" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "text json vdsm" -- "$cur")) ;;
        esac
        return
        ;;
    --numvfs | --count | --duration | --guest-slot | --vm-memory | --pid | --unit | --uuid | \
        --expiry | --nova-release | --resource-prefix | --physical-network)
        # A number, a name or a time of the user's own: no device is its value.
        return
        ;;
    -n | -u | -p | -w)
        # Their long forms' values where they take one (detach -n and reserve -u take none).
        case $cmd/$prev in
        persist/-n | monitor/-n | monitor/-w | doctor/-u | doctor/-p | mdev/-u) return ;;
        esac
        ;;
    -f)
        # export's and list's -f is --format; every other command's is --force (no value).
        case $cmd in
        export)
            COMPREPLY=($(compgen -W "kubevirt nfd nova sriovdp prometheus" -- "$cur"))
            return
            ;;
        list)
            COMPREPLY=($(compgen -W "text json vdsm" -- "$cur"))
            return
            ;;
        esac
        ;;
    esac
    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--root --json --verbose --dry-run --timeout --names
                --state-dir --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_hostdev_commands)" -- "$cur"))
        fi
        return
    fi
    if [ "$cmd" = help ]; then
        # help COMMAND: one command, no option.
        [ "$prev" = help ] && [[ $cur != -* ]] &&
            COMPREPLY=($(compgen -W "$(_hostdev_commands | grep -vx help)" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        # The command's own options, from its --help: its usage (the lines before the first
        # blank one) and the lines that start with an option; not the prose, which names
        # other commands' options (check's help speaks of acquire --force and --group).
        COMPREPLY=($(compgen -W "$(command hostdev "$cmd" --help 2>/dev/null |
            awk '!NF { body = 1 } !body { print; next }
                match($0, /^ +(-[a-zA-Z], )?--[a-z][a-z-]*/) { print substr($0, RSTART, RLENGTH) }' |
            grep -o -- '--[a-z][a-z-]*' | sort -u) --json --dry-run" -- "$cur"))
        return
    fi
    case $cmd in
    sriov)
        # The PFs `sriov` lists (none: no words, not every device); addresses, split on
        # blanks (no mapfile: zsh runs this too).
        local pfs
        pfs=$(_hostdev_run sriov | awk -F': ' '{ print $1 }')
        # shellcheck disable=SC2086
        [ -z "$pfs" ] || COMPREPLY=($(compgen -W "$(_hostdev_devs $pfs)" -- "$cur"))
        ;;
    list | show | detach | reattach | reset | check | verify | hostdev-xml | qemu-args | \
        persist | unpersist | cmdline | acquire | release | doctor)
        local devs
        devs=$(_hostdev_devs)
        # Mediated devices by UUID, USB and SCSI devices by name, where they are taken.
        case $cmd in acquire | release | show | check | hostdev-xml | qemu-args | doctor)
            devs="$devs $(_hostdev_mdevs)
            $(_hostdev_run list --caps usb_device,scsi | awk '{ print $1 }')" ;;
        verify) devs="$devs $(_hostdev_mdevs)" ;;
        esac
        COMPREPLY=($(compgen -W "$devs" -- "$cur"))
        ;;
    assignments)
        # The devices the map records.
        COMPREPLY=($(compgen -W "$(_hostdev_run assignments | awk 'NR > 1 { print $1 }')" \
            -- "$cur"))
        ;;
    mdev)
        # mdev SUB, then create's PARENT TYPE (from `mdev types`) or remove's UUID.
        # --uuid's value is no positional word (create and define take it).
        local sub="" n=0 w seen="" skip=""
        for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
            [ -n "$seen" ] || { [ "$w" = mdev ] && seen=1 && n=1; continue; }
            [ -z "$skip" ] || { skip=""; continue; }
            case $w in --uuid | -u) skip=1 ;; -*) ;; *) n=$((n + 1)); [ $n -eq 2 ] && sub=$w ;; esac
        done
        case $sub in
        "") COMPREPLY=($(compgen -W "types list create remove define undefine defined" -- "$cur")) ;;
        create | define) COMPREPLY=($(compgen -W "$(_hostdev_run mdev types | awk -v n=$n \
            '{ print (n == 2 ? $1 : $2) }' | sort -u)" -- "$cur")) ;;
        remove) COMPREPLY=($(compgen -W "$(_hostdev_mdevs)" -- "$cur")) ;;
        undefine) COMPREPLY=($(compgen -W "$(_hostdev_mdevs defined)" -- "$cur")) ;;
        esac
        ;;
    esac
}
complete -F _hostdev_complete hostdev
