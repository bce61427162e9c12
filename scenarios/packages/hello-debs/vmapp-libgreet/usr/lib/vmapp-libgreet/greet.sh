# vmapp-libgreet {{ version }}: sourced by vmapp-hello; needs vmapp-libbase.
. /usr/lib/vmapp-libbase/base.sh
vmapp_greet() { echo "hello, $1 (libgreet {{ version }}, $(vmapp_base_version))"; }
