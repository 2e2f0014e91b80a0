#!/usr/bin/env bash
# Regenerates the demo's media (committed; this is how it was made).
# Needs espeak-ng (Debian package) and the npm-installed ffmpeg.
set -euo pipefail
cd "$(dirname "$0")"
FF=../../node_modules/@ffmpeg-installer/linux-x64/ffmpeg
mkdir -p images audio
# Two people at a table: heads (circles), shoulders (ellipses), a table band.
H1='lte(hypot(X-250,Y-170),62)'; H2='lte(hypot(X-604,Y-170),62)'
B1='lte(pow((X-250)/120,2)+pow((Y-360)/130,2),1)'; B2='lte(pow((X-604)/120,2)+pow((Y-360)/130,2),1)'
T='gte(Y,400)'
R="if($T,120,if($H1+$H2,230,if($B1,40,if($B2,200,60+Y/8))))"
G="if($T,80,if($H1+$H2,190,if($B1,90,if($B2,60,80+Y/8))))"
B="if($T,50,if($H1+$H2,160,if($B1,180,if($B2,60,120+Y/10))))"
$FF -hide_banner -loglevel error -y -f lavfi -i "color=c=black:s=854x480:d=1" -vf "format=rgb24,geq=r='$R':g='$G':b='$B'" -frames:v 1 images/kitchen.png
$FF -hide_banner -loglevel error -y -f lavfi -i "color=c=black:s=854x480:d=1" -vf "format=rgb24,geq=r='$G':g='$R':b='$B'" -frames:v 1 images/studio.png
say() { espeak-ng -v "$1" -s 165 -w /tmp/say.wav "$3"; $FF -hide_banner -loglevel error -y -i /tmp/say.wav -ac 1 -ar 16000 -c:a pcm_s16le -map_metadata -1 -fflags +bitexact "audio/$2.wav"; }
say en+f3 01-ana "Good morning, Ben. Did you finish the bread?"
say en+m3 01-ben "Almost. It needs ten more minutes in the oven."
say en+f3 02-ana "Then we have time for coffee."
say en+m3 03-ben "Only if you make it this time."
say en+f3 04-ana "Fine. But I am choosing the mugs."
say en+m3 05-ben "Welcome back to the studio. Today we talk about sourdough."
say en+f3 06-ana "And why mine never rises."
say en+m3 07-ben "Patience, mostly."
