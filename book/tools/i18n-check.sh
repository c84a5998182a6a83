#!/usr/bin/env bash
# Checks the Spanish translation of the book (book/po/es.po) against the English pages:
#   1. extracts the English text into a fresh messages.pot (the mdbook-xgettext renderer);
#   2. merges es.po with it (msgmerge) and fails if the result differs from the committed es.po:
#      a new English paragraph is missing from it, a changed one would become fuzzy, a removed one
#      would be dropped; `book/tools/i18n-update.sh` writes the merged file, then translate what it
#      reports as fuzzy or untranslated;
#   3. validates es.po (msgfmt --check) and prints how many messages are translated, fuzzy and
#      untranslated;
#   4. builds the Spanish book into target/book-es and checks that the preprocessor translated it.
# Needs mdbook 0.4.52, mdbook-i18n-helpers 0.3.6 (mdbook-xgettext, mdbook-gettext) and GNU gettext
# (msgmerge, msgattrib, msgfmt). Exit status 1 on any problem.
#   book/tools/i18n-check.sh            check (CI)
#   book/tools/i18n-check.sh --update   write the merged catalogue to book/po/es.po (= i18n-update.sh)
set -euo pipefail
book=$(cd "$(dirname "$0")/.." && pwd)
po="$book/po/es.po"
out="$book/../target/book-es"
mode=${1:-check}
TITLE_ES="mpm-lab: los módulos de multiprocesamiento de Apache, reconstruidos y explicados"

for tool in mdbook mdbook-xgettext mdbook-gettext msgmerge msgattrib msgfmt; do
  command -v "$tool" >/dev/null || { echo "i18n: $tool is not installed (see book/tools/i18n-check.sh)"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The English text as a PO template. No line numbers in the references (granularity 0): a
# paragraph moved by an edit elsewhere on its page does not change the catalogue.
MDBOOK_OUTPUT='{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}' \
  mdbook build -d "$tmp/pot" "$book" 2>"$tmp/xgettext.log" \
  || { cat "$tmp/xgettext.log"; exit 1; }

# es.po merged with it: unchanged paragraphs keep their translation, changed ones become fuzzy
# (with the previous English kept as `#|` lines), removed ones are dropped. The creation date of
# the template is not part of the comparison.
msgmerge --quiet --previous --output-file="$tmp/merged.po" "$po" "$tmp/pot/messages.pot"
msgattrib --no-obsolete --output-file="$tmp/es.po" "$tmp/merged.po"
sed -i 's/^"POT-Creation-Date: .*"$/"POT-Creation-Date: \\n"/' "$tmp/es.po"

if [ "$mode" = "--update" ]; then
  cp "$tmp/es.po" "$po"
  echo "i18n: wrote ${po#"$book"/}"
fi

echo "== es.po: translated / fuzzy / untranslated"
msgfmt --check --statistics --output-file=/dev/null "$po"

if [ "$mode" != "--update" ] && ! cmp -s "$tmp/es.po" "$po"; then
  echo "i18n: book/po/es.po is stale: the English pages changed since it was last merged."
  diff -u "$po" "$tmp/es.po" | head -60 || true
  echo "Run book/tools/i18n-update.sh, translate the fuzzy and new messages, and commit es.po."
  exit 1
fi

echo "== Spanish build"
# (book.toml's title is not a message of the catalogue: it is set here)
MDBOOK_BOOK__LANGUAGE=es MDBOOK_BOOK__TITLE="$TITLE_ES" mdbook build -d "$out" "$book" 2>"$tmp/build.log" \
  || { cat "$tmp/build.log"; exit 1; }
if grep -E 'WARN|ERROR' "$tmp/build.log"; then exit 1; fi
# The preprocessor really ran: the first page's title is the translated one.
grep -q '<h1 id="introducción">' "$out/introduction.html" \
  || { echo "i18n: $out/introduction.html is not in Spanish (did mdbook-gettext run?)"; exit 1; }
# Translated links must still point to existing pages and headings.
CHECK_LINKS_OUT="$out" "$book/check-links.sh" --no-build
echo "i18n: ok (Spanish book in ${out#"$book"/})"
