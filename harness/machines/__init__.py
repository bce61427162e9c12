"""Adapters that give the runner machines: images booted as VMs and channels into them."""
