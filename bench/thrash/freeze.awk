# bench/thrash: the freeze, from a phase's samples ("ms full_total_us refault_file alive", one a
# sample; guest.sh's sampler), the same measure for every row and on both sides (the guest uses it
# to count frozen runs, check.sh to print and check them). Prints one line:
#
#   CROSS END FROZEN_S MAX_FULL REFAULT_MIB ONSET THRASH_S
#
# END      the first sample after the last one with both processes alive (0: neither died)
# CROSS    the first sample, not after END, whose trailing second (to the newest sample at least
#          1000 ms older) had PSI full >= 50% of the time (0: none)
# ONSET    the first sample, not after END, whose trailing second re-read at least 1 MiB/s of
#          file pages (the guard's default refault line): the squeeze has begun (0: none)
# FROZEN_S from CROSS, THRASH_S from ONSET, to END (to the last sample when nothing died); "-"
#          without a CROSS or ONSET
# MAX_FULL the highest trailing-second PSI full share (%) not after END; REFAULT_MIB the file
#          refaults over the phase (4 KiB pages)
NF == 4 { n++; t[n] = $1; f[n] = $2; r[n] = $3; a[n] = $4 }
END {
    e = 0
    for (i = n; i >= 1 && a[i] < 2; i--) ;
    if (i < n) e = t[i + 1]
    c = 0; o = 0; m = 0
    for (i = 2; i <= n && (!e || t[i] <= e); i++) {
        for (j = i - 1; j >= 1 && t[i] - t[j] < 1000; j--) ;
        if (j < 1) continue
        p = (f[i] - f[j]) / (t[i] - t[j]) / 10
        if (p > m) m = p
        if (!c && p >= 50) c = t[i]
        if (!o && (r[i] - r[j]) * 4096 / 1048576 * 1000 / (t[i] - t[j]) >= 1) o = t[i]
    }
    last = e ? e : t[n]
    printf "%.0f %.0f %s %.0f %.1f %.0f %s\n", c, e, c ? sprintf("%.1f", (last - c) / 1000) : "-", m,
        n ? (r[n] - r[1]) * 4096 / 1048576 : 0, o, o ? sprintf("%.1f", (last - o) / 1000) : "-"
}
