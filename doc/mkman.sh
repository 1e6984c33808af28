#!/bin/bash
# mkman.sh TEMPLATE OUTPUT SCDOC VIRTGOV INVENTORYD: a man page from its
# scdoc template, with the programs' own --help texts put in where the
# template says, so that the pages and --help say the same things from one
# place (the C strings):
#   @HELP@ PROGRAM [ARGS...]   that program's output, verbatim
#                              (PROGRAM: virtgov or virtgov-inventoryd)
#   @COMMANDS@                 a section per command of 'virtgov --help',
#                              its 'virtgov COMMAND --help' verbatim
set -euo pipefail
template=$1 output=$2 scdoc=$3 virtgov=$4 inventoryd=$5

# A program's output as an scdoc literal block.
literal() {
        local text
        case $1 in
        virtgov) shift; text=$("$virtgov" "$@") ;;
        virtgov-inventoryd) shift; text=$("$inventoryd" "$@") ;;
        *) echo "mkman.sh: unknown program '$1'" >&2; exit 1 ;;
        esac
        printf '```\n%s\n```\n' "$text"
}

commands() {
        local c
        for c in $("$virtgov" --help |
                   awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
                printf '## %s\n\n' "$c"
                literal virtgov "$c" --help
                printf '\n'
        done
}

{
        while IFS= read -r line; do
                case $line in
                '@HELP@ '*) read -r -a words <<< "${line#@HELP@ }"; literal "${words[@]}" ;;
                '@COMMANDS@') commands ;;
                *) printf '%s\n' "$line" ;;
                esac
        done < "$template"
} | "$scdoc" > "$output"
