from busybox as First
run echo lower > /tmp/lower
Run echo mixed
wOrKdIr /tmp
From busybox aS second
copy --from=FIRST /tmp/lower /lower
cmd ["sh"]
