#!/bin/sh
# Runs inside the debootstrapped root (chroot) to make it a fast-booting Vagrant guest.
# Arguments: none.  Environment: VMAPP_PUBKEY (the harness's SSH public key for the vagrant user).
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

echo vmapp-guest > /etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 vmapp-guest\n' > /etc/hosts
printf 'LABEL=root / ext4 defaults,noatime 0 1\n' > /etc/fstab

# Network: systemd-networkd with DHCP on the user-mode NIC; no wait-online (costs boot time).
mkdir -p /etc/systemd/network
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' > /etc/systemd/network/10-dhcp.network
systemctl enable systemd-networkd.service >/dev/null 2>&1
systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer e2scrub_reap.service \
            fstrim.timer systemd-timesyncd.service; do
  systemctl mask "$unit" >/dev/null 2>&1 || true
done
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' > /etc/systemd/journald.conf.d/volatile.conf

# Serial console for the console log the reports keep.
systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 || true

# SSH: host keys are made per VM at first boot (clones must not share them).
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/ssh-host-keys.service <<'UNIT'
[Unit]
Description=Generate SSH host keys for this VM
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable ssh-host-keys.service >/dev/null 2>&1
# Only an ed25519 host key: `ssh-keygen -A` also makes RSA-3072, ~20 s of every boot under TCG.
printf 'UseDNS no\nPasswordAuthentication no\nHostKey /etc/ssh/ssh_host_ed25519_key\nPrintMotd no\nPrintLastLog no\n' \
  > /etc/ssh/sshd_config.d/vmapp.conf
# Every harness command is an SSH session of its own: under TCG a logind session (pam_systemd),
# the dynamic motd and the mail check cost most of a second per command. None is needed here.
sed -i -e '/pam_motd.so/d' -e '/pam_mail.so/d' /etc/pam.d/sshd
sed -i '/pam_systemd.so/d' /etc/pam.d/common-session

# The vagrant user, key-only, passwordless sudo.
id vagrant >/dev/null 2>&1 || useradd -m -s /bin/bash vagrant
mkdir -p /home/vagrant/.ssh
printf '%s\n' "$VMAPP_PUBKEY" > /home/vagrant/.ssh/authorized_keys
chmod 700 /home/vagrant/.ssh && chmod 600 /home/vagrant/.ssh/authorized_keys
chown -R vagrant:vagrant /home/vagrant/.ssh
printf 'vagrant ALL=(ALL) NOPASSWD: ALL\nDefaults:vagrant !requiretty\n' > /etc/sudoers.d/vagrant
# The harness itself logs in as root with the same key: sudo costs ~0.4 s per command under TCG.
mkdir -p /root/.ssh && chmod 700 /root/.ssh
printf '%s\n' "$VMAPP_PUBKEY" > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
printf 'PermitRootLogin prohibit-password\n' >> /etc/ssh/sshd_config.d/vmapp.conf
chmod 440 /etc/sudoers.d/vagrant
passwd -l root >/dev/null

# Small initrd: only what a virtio guest needs.
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' > /etc/initramfs-tools/modules
update-initramfs -u -k all >/dev/null 2>&1

# A smaller image uploads faster into the libvirt pool on a VM's first boot: drop docs, man
# pages, locales, and kernel modules for hardware a virtio guest never has.
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*
for kver in $(ls /lib/modules); do
  for dir in drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet \
             drivers/infiniband drivers/staging drivers/bluetooth drivers/isdn drivers/iio \
             drivers/usb drivers/hid drivers/video drivers/mmc drivers/mtd drivers/nfc \
             drivers/thunderbolt drivers/scsi drivers/ata drivers/target drivers/nvme \
             drivers/hwmon drivers/platform drivers/input/touchscreen drivers/input/misc \
             drivers/net/can drivers/net/usb drivers/net/phy drivers/net/dsa drivers/net/ieee802154 \
             drivers/net/wwan drivers/net/hamradio drivers/atm drivers/firewire drivers/pcmcia \
             sound net/wireless net/bluetooth net/mac80211 net/ieee802154 net/nfc; do
    rm -rf "/lib/modules/$kver/kernel/$dir"
  done
  depmod "$kver"
done

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /var/tmp/*
