# vmapp-libbase {{ version }}: sourced by vmapp-libgreet.
vmapp_base_version() { echo "libbase {{ version }}"; }
