# monitor.sh - `hostdev monitor` on the real kernel's uevent socket: a detach and a reattach of
# an e1000e announce unbind, bind vfio-pci, unbind, bind e1000e, in that order, as lines and as
# JSON; --duration ends a quiet watch with exit 1 when --count was not reached.
need_cmd monitor detach reattach
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
expect "$(driver_of "$a")" e1000e "$a driver before"

"$HD" -v monitor --count 4 --duration 30 >"$T/events" 2>"$T/mon-err" &
pid=$!
i=0
until grep -q listening "$T/mon-err" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "monitor never said it listens: $(cat "$T/mon-err")"
    sleep 0.05
done
hd detach "$a"
expect "$rc" 0 "detach $a: exit status"
hd reattach "$a"
expect "$rc" 0 "reattach $a: exit status"
wait $pid
expect "$?" 0 "monitor --count 4: exit status"
sed 's/^/    | /' "$T/events"
expect "$(cat "$T/events")" "unbind $a
bind $a driver=vfio-pci
unbind $a
bind $a driver=e1000e" "the events of a detach and a reattach"

# JSON: one object per line, with the kernel's devpath and a sequence number.
"$HD" -v --json monitor --count 2 --duration 30 >"$T/events" 2>"$T/mon-err" &
pid=$!
i=0
until grep -q listening "$T/mon-err" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "monitor --json never said it listens"
    sleep 0.05
done
hd detach "$a"
expect "$rc" 0 "detach $a (json): exit status"
wait $pid
expect "$?" 0 "monitor --json --count 2: exit status"
sed 's/^/    | /' "$T/events"
grep -q "^{\"action\":\"unbind\",\"subsystem\":\"pci\",\"address\":\"$a\"" "$T/events" ||
    fail "no unbind object for $a"
grep -q "\"action\":\"bind\".*\"driver\":\"vfio-pci\".*\"devpath\":\"/devices/pci0000:00/$a\".*\"seqnum\":[1-9]" \
    "$T/events" || fail "no bind object with driver, devpath and seqnum"
hd reattach "$a"
expect "$rc" 0 "reattach $a (json): exit status"

hd monitor --count 1 --duration 1
expect "$rc" 1 "a quiet monitor --count 1 --duration 1: exit status"
pass
