#!/usr/bin/env bash
# report.html renders in a real browser: writes the sample report (tests/report/sample_report.hpp) with the report
# test binary, opens report.html in headless Chromium, takes a screenshot, and fails on a console message (the page
# has no script, so any console output is an error: a resource that failed to load, a blocked request, a script
# error) or on a blank screenshot. pareto.svg must also be well-formed XML. Then it checks that the check works:
# a page with a console error and a blank page must both fail it.
#
#   tests/report/html_in_chromium.sh <hwnas_tests_report> <work dir>
#
# Exit 0: pass; 1: fail; 77: skipped (no chromium; scripts/setup installs it). The screenshot stays in the work
# dir (report.png) to be looked at.
set -uo pipefail

tests_bin=${1:?usage: html_in_chromium.sh <hwnas_tests_report binary> <work dir>}
work=${2:?usage: html_in_chromium.sh <hwnas_tests_report binary> <work dir>}
python=/usr/bin/python3

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "html_in_chromium: SKIP: chromium is not installed (scripts/setup installs it)"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work"

# Decodes a PNG (standard library only: zlib, the five row filters) and fails unless its pixels vary: at least 20
# colours and at least 2% of the pixels differ from the most common one (the background).
check_png() {
  "$python" - "$1" <<'PY'
import struct, sys, zlib
from collections import Counter

path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{path}: not a PNG")
pos, idat, width = 8, [], 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if depth != 8 or colour not in (2, 6) or interlace:
            sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat.append(body)
    pos += 12 + length
raw = zlib.decompress(b"".join(idat))
stride = width * bpp
prev = bytearray(stride)
colours = Counter()
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    elif f != 0:
        sys.exit(f"{path}: bad filter {f} in row {y}")
    if y % 2 == 0:  # every other row is plenty to tell a page from a blank
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
    prev = line
total = sum(colours.values())
background, most = colours.most_common(1)[0]
share = 1 - most / total
print(f"{path}: {width}x{height}, {len(colours)} colours, {100 * share:.1f}% of pixels not background")
if len(colours) < 20 or share < 0.02:
    sys.exit(f"{path}: the page is blank")
PY
}

# Opens `url` in headless Chromium, screenshot to `png`; fails on a console message or a blank screenshot.
check_page() {
  local url=$1 png=$2 log=${2%.png}.log profile
  profile=$(mktemp -d)
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 --screenshot="$png" --window-size=1280,2000 "$url" >"$log" 2>&1
  local code=$?
  rm -rf "$profile"
  if [[ $code -ne 0 || ! -s $png ]]; then
    echo "html_in_chromium: chromium failed (exit $code) on $url; its log:"
    cat "$log"
    return 1
  fi
  if grep -E 'CONSOLE|Uncaught' "$log"; then
    echo "html_in_chromium: console output above from $url"
    return 1
  fi
  check_png "$png"
}

fail=0

# 1. The sample report, written by the report tests' own writer.
HWNAS_REPORT_SAMPLE_DIR="$work/report" "$tests_bin" --test-case="write_outputs: the sample report for the browser check" \
  >"$work/write.log" 2>&1 || { cat "$work/write.log"; echo "html_in_chromium: writing the sample report failed"; exit 1; }
[[ -s $work/report/report.html ]] || { echo "html_in_chromium: no report.html in $work/report"; exit 1; }
"$python" -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$work/report/pareto.svg" \
  || { echo "html_in_chromium: pareto.svg is not well-formed XML"; fail=1; }
if check_page "file://$work/report/report.html" "$work/report.png"; then
  echo "html_in_chromium: report.html renders (screenshot: $work/report.png)"
else
  echo "html_in_chromium: FAIL: report.html"
  fail=1
fi

# 2. The check itself: a console error and a blank page must each fail it.
printf '<!DOCTYPE html><html><body><h1>error</h1><script>console.error("deliberate")</script></body></html>\n' \
  >"$work/console_error.html"
printf '<!DOCTYPE html><html><body style="background: white"></body></html>\n' >"$work/blank.html"
for bad in console_error blank; do
  if check_page "file://$work/$bad.html" "$work/$bad.png" >"$work/$bad.check.log" 2>&1; then
    echo "html_in_chromium: FAIL: the check passed $bad.html, which it must reject"
    fail=1
  else
    echo "html_in_chromium: the check rejects $bad.html, as it must"
  fi
done
exit $fail
