# Bitrate against advice for one page of browser_test.sh:
#   gnuplot -e "in='cmsd.csv'; out='cmsd-bitrate.png'; what='cmsd'" bitrate.gp
set terminal pngcairo size 900,480 font ",11"
set output out
set title sprintf("dash.js in Chromium through scone-bridge (%s)", what)
set xlabel "playback time (s)"
set ylabel "kbit/s"
set y2label "buffer (s)"
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set key outside bottom center horizontal
set grid
plot in using 1:6 with steps lw 2 lc rgb "#cc3333" title "SCONE advice", \
     in using 1:7 with steps lw 2 dt 2 lc rgb "#cc8833" title "advice less margin", \
     in using 1:2 with steps lw 2 lc rgb "#3366cc" title "chosen video bitrate", \
     in using 1:3 with steps lw 1 lc rgb "#66aa66" title "rendered", \
     in using 1:4 axes x1y2 with lines lw 1 lc rgb "#888888" title "buffer"
