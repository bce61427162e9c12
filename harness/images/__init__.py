"""Guest images: recipes in ``images/`` built offline into cached vagrant-libvirt boxes."""
