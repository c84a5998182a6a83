#!/usr/bin/env bash
# Checks the book for what `mdbook build` does not report as an error:
#   1. every {{#include FILE:ANCHOR}} names an existing file and an anchor that exists in it
#      (a missing anchor silently includes nothing);
#   2. every internal link and fragment in the built HTML points to an existing page and heading.
# Needs only bash, grep and sed (CI machines have nothing else). Exit status 1 on any problem.
#   book/check-links.sh            build the book first (mdbook build), then check
#   book/check-links.sh --no-build check an existing build in target/book
#   CHECK_LINKS_OUT=DIR book/check-links.sh --no-build   check another build (the Spanish book)
set -uo pipefail
book=$(cd "$(dirname "$0")" && pwd)
out="${CHECK_LINKS_OUT:-$book/../target/book}"
fail=0
problem() { printf '  %s\n' "$*"; fail=1; }

echo "== includes"
while IFS= read -r hit; do
  md=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}; directive=${rest#*:}
  spec=$(printf '%s' "$directive" | sed -E 's/^.?\{\{#(rustdoc_)?include +//; s/ *\}\}$//')
  path=${spec%%:*}; anchor=""
  [ "$spec" != "$path" ] && anchor=${spec#*:}
  target="$(dirname "$md")/$path"
  where="${md#"$book"/}:$line"
  if [ ! -f "$target" ]; then problem "$where: included file not found: $path"; continue; fi
  case "$anchor" in
    ""|[0-9]*) ;;                        # whole file, or line numbers
    *) grep -qE "ANCHOR: *$anchor\$" "$target" && grep -qE "ANCHOR_END: *$anchor\$" "$target" \
         || problem "$where: anchor '$anchor' not found in $path" ;;
  esac
done < <(grep -rnoE '(^|[^\\])\{\{#(rustdoc_)?include [^}]+\}\}' "$book/src" --include='*.md')   # \{{ is escaped

if [ "${1:-}" != "--no-build" ]; then
  echo "== mdbook build"
  log=$(mdbook build "$book" 2>&1); status=$?
  # (without mdbook-gettext installed mdbook warns and builds English: not a problem of the book)
  printf '%s\n' "$log" | grep -E 'ERROR|WARN' | grep -vE '"gettext" preprocessor|Command: mdbook-gettext' && fail=1
  [ $status -ne 0 ] && { printf '%s\n' "$log"; exit 1; }
fi

echo "== internal links"
[ -d "$out" ] || { echo "no build in $out"; exit 1; }
cd "$out" || exit 1
while IFS= read -r page; do
  [ "$page" = "./print.html" ] && continue          # the same links again, rewritten for one page
  dir=$(dirname "$page")
  while IFS= read -r href; do
    case "$href" in
      http:*|https:*|mailto:*|javascript:*|"") continue ;;
    esac
    file=${href%%#*}; frag=""
    [ "$file" != "$href" ] && frag=${href#*#}
    if [ -z "$file" ]; then file="$page"; else file="$dir/$file"; fi
    file=${file%%\?*}
    if [ ! -e "$file" ]; then problem "${page#./}: broken link $href"; continue; fi
    if [ -n "$frag" ] && [ -f "$file" ] && ! grep -q "id=\"$frag\"" "$file"; then
      problem "${page#./}: missing anchor #$frag in ${file#./}"
    fi
  done < <(grep -oE 'href="[^"]*"' "$page" | sed -E 's/^href="//; s/"$//' | sort -u)
done < <(find . -name '*.html')

if [ $fail -ne 0 ]; then echo "check-links: problems found"; exit 1; fi
echo "check-links: ok"
