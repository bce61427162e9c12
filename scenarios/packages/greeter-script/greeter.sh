#!/bin/sh
# VM application "greeter" {{ version }}: the package is this plain script.  The install, update
# and remove commands run it from the download folder, where the configuration (the version's
# default, or the VM's own from its profile entry) was saved as ./greeter_config.
set -eu
conf=./greeter_config
log=/var/log/greeter.log
case "${1:-}" in
  install|update)
    [ -f "$conf" ] || { echo "greeter: no configuration file $conf" >&2; exit 3; }
    greeting=$(sed -n 's/^greeting=//p' "$conf")
    [ -n "$greeting" ] || { echo "greeter: $conf has no greeting=" >&2; exit 4; }
    mkdir -p /etc/greeter
    printf 'greeting=%s\n' "$greeting" > /etc/greeter/greeter.conf
    cat > /usr/local/bin/greeter <<'SCRIPT'
#!/bin/sh
echo "$(sed -n 's/^greeting=//p' /etc/greeter/greeter.conf) from greeter {{ version }}"
SCRIPT
    chmod 0755 /usr/local/bin/greeter
    echo "$1 {{ version }} greeting=$greeting" >> "$log"
    ;;
  remove)
    rm -rf /etc/greeter /usr/local/bin/greeter
    echo "remove {{ version }}" >> "$log"
    ;;
  *)
    echo "usage: sh greeter install|update|remove" >&2
    exit 2
    ;;
esac
