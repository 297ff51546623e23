# bash completion for hostdev: commands, their options, device addresses, interface names and
# VM names, read from the host (or the --root given on the line) as the user types.
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): words without blanks, the idiom
_hostdev_run()
{
    # hostdev itself, with the line's --root (and nothing that could write).
    command hostdev ${_hostdev_root:+--root "$_hostdev_root"} --names none "$@" 2>/dev/null
}

_hostdev()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local i cmd='' _hostdev_root=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --root | -r) _hostdev_root=${COMP_WORDS[i+1]}; ((i++)) ;;
        --root=*) _hostdev_root=${COMP_WORDS[i]#--root=} ;;
        --timeout | -t | --names | --state-dir) ((i++)) ;;
        -*) ;;
        *) [ -z "$cmd" ] && cmd=${COMP_WORDS[i]} ;;
        esac
    done
    case $prev in
    --root | -r | --state-dir | --names | -o | --domain-xml | -x)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --driver)
        if [ "$cmd" = detach ]; then
            COMPREPLY=($(compgen -W "vfio vfio-pci pci-stub $(ls /sys/bus/pci/drivers 2>/dev/null |
                grep '_vfio_pci$')" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "vfio-pci pci-stub" -- "$cur"))
        fi
        return
        ;;
    --subsystem | -s)
        if [ "$cmd" = monitor ]; then
            COMPREPLY=($(compgen -W "pci usb scsi net block all" -- "$cur"))
            return
        fi
        ;;
    --vm)
        COMPREPLY=($(compgen -W "$(_hostdev_run assignments | awk 'NR > 1 { print $2 }' |
            sort -u)" -- "$cur"))
        return
        ;;
    --format)
        case $cmd in
        export) COMPREPLY=($(compgen -W "kubevirt nfd nova sriovdp prometheus" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "text json vdsm" -- "$cur")) ;;
        esac
        return
        ;;
    esac
    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--root --json --verbose --dry-run --timeout --names
                --state-dir --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(command hostdev --help 2>/dev/null |
                awk '/^Commands:/ { on = 1; next } on && NF { print $1 }')" -- "$cur"))
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        # The command's own options, from its --help.
        COMPREPLY=($(compgen -W "$(command hostdev "$cmd" --help 2>/dev/null |
            grep -o -- '--[a-z][a-z-]*' | sort -u) --json --dry-run" -- "$cur"))
        return
    fi
    case $cmd in
    list | show | detach | reattach | reset | check | verify | sriov | hostdev-xml | qemu-args | \
        persist | unpersist | cmdline | acquire | release | doctor)
        # Addresses as listed, and the network interfaces that name devices too.
        local devs
        devs=$(_hostdev_run list | awk '{ print $1 }
            { for (f = 2; f <= NF; f++) if ($f ~ /^if=/) { sub(/^if=/, "", $f);
              n = split($f, a, ","); for (k = 1; k <= n; k++) print a[k] } }')
        # acquire and release take mediated, USB and SCSI devices too, by name.
        case $cmd in acquire | release) devs="$devs $(_hostdev_run mdev list | awk '{ print $1 }')
            $(_hostdev_run list --caps usb_device,scsi | awk '{ print $1 }')" ;; esac
        COMPREPLY=($(compgen -W "$devs" -- "$cur"))
        ;;
    mdev)
        # mdev SUB, then create's PARENT TYPE (from `mdev types`) or remove's UUID.
        local sub="" n=0 w seen=""
        for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
            [ -n "$seen" ] || { [ "$w" = mdev ] && seen=1 && n=1; continue; }
            case $w in -*) ;; *) n=$((n + 1)); [ $n -eq 2 ] && sub=$w ;; esac
        done
        case $sub in
        "") COMPREPLY=($(compgen -W "types list create remove define undefine defined" -- "$cur")) ;;
        create | define) COMPREPLY=($(compgen -W "$(_hostdev_run mdev types | awk -v n=$n \
            '{ print (n == 2 ? $1 : $2) }' | sort -u)" -- "$cur")) ;;
        remove) COMPREPLY=($(compgen -W "$(_hostdev_run mdev list | awk '{ print $1 }')" -- "$cur")) ;;
        undefine) COMPREPLY=($(compgen -W "$(_hostdev_run mdev defined | awk '{ print $1 }')" -- "$cur")) ;;
        esac
        ;;
    esac
}
complete -F _hostdev hostdev
