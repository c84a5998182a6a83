#!/usr/bin/env bash
# Refreshes book/po/es.po after English pages changed, in one command (run it after merging):
# extracts the English text, merges it into es.po (new paragraphs untranslated, changed ones fuzzy
# with the previous English kept as `#|` lines, removed ones dropped), builds the Spanish book and
# prints the counts. Then translate the fuzzy/untranslated messages (a PO editor such as Poedit,
# or by hand: write the msgstr and delete the `#, fuzzy` line) and commit es.po.
exec "$(dirname "$0")/i18n-check.sh" --update
