# json-flatten.awk - flatten a JSON document into "path<TAB>value" lines.
#
# Works with busybox awk (the guest has no jq). Every scalar becomes one line:
#   /hostname<TAB>verify-vm
#   /public_keys/mykey<TAB>ssh-ed25519 AAAA... comment
#   /keys/0/data<TAB>ssh-ed25519 AAAA... comment
# Object members append "/<name>", array elements "/<index>" (0-based).
# String escapes are decoded; a string holding newlines is emitted as one line
# per non-empty line, all with the same path (so multi-key values split up).
# \uXXXX outside ASCII becomes "?". Malformed input stops the walk early
# (whatever was parsed until then has been printed) and exits with status 1.

function ws() {
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == " " || c == "\t" || c == "\n" || c == "\r") pos++
        else return
    }
}

function hexval(h,   i, d, v) {
    v = 0
    h = tolower(h)
    for (i = 1; i <= length(h); i++) {
        d = index("0123456789abcdef", substr(h, i, 1))
        if (d == 0) return -1
        v = v * 16 + d - 1
    }
    return v
}

function str(   out, c, v) {
    # s[pos] is the opening quote
    pos++
    out = ""
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\"") { pos++; return out }
        if (c == "\\") {
            pos++
            c = substr(s, pos, 1)
            if (c == "n") out = out "\n"
            else if (c == "t") out = out "\t"
            else if (c == "r") out = out "\r"
            else if (c == "b" || c == "f") out = out ""
            else if (c == "u") {
                v = hexval(substr(s, pos + 1, 4))
                pos += 4
                if (v >= 32 && v < 127) out = out sprintf("%c", v)
                else if (v == 10) out = out "\n"
                else if (v == 9) out = out "\t"
                else out = out "?"
            }
            else out = out c
            pos++
            continue
        }
        out = out c
        pos++
    }
    bad = 1
    return out
}

function emit(path, v,   m, parts, j, line) {
    gsub(/\r/, "", v)
    if (index(v, "\n") == 0) { print path "\t" v; return }
    m = split(v, parts, "\n")
    for (j = 1; j <= m; j++) {
        line = parts[j]
        if (line != "") print path "\t" line
    }
}

function value(path,   c, k, i, v) {
    if (bad) return
    ws()
    if (pos > n) { bad = 1; return }
    c = substr(s, pos, 1)
    if (c == "{") {
        pos++
        ws()
        if (substr(s, pos, 1) == "}") { pos++; return }
        while (!bad) {
            ws()
            if (substr(s, pos, 1) != "\"") { bad = 1; return }
            k = str()
            ws()
            if (substr(s, pos, 1) != ":") { bad = 1; return }
            pos++
            value(path "/" k)
            ws()
            c = substr(s, pos, 1)
            pos++
            if (c == "}") return
            if (c != ",") { bad = 1; return }
        }
        return
    }
    if (c == "[") {
        pos++
        ws()
        if (substr(s, pos, 1) == "]") { pos++; return }
        i = 0
        while (!bad) {
            value(path "/" i)
            i++
            ws()
            c = substr(s, pos, 1)
            pos++
            if (c == "]") return
            if (c != ",") { bad = 1; return }
        }
        return
    }
    if (c == "\"") { v = str(); emit(path, v); return }
    v = ""
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "," || c == "}" || c == "]" || c == " " || c == "\t" || c == "\r" || c == "\n") break
        v = v c
        pos++
    }
    if (v == "") { bad = 1; return }
    emit(path, v)
}

{ s = s $0 "\n" }

END {
    n = length(s)
    pos = 1
    bad = 0
    value("")
    exit bad
}
