//! The device nodes sandboxes may need: /dev/fuse, /dev/net/tun, /dev/kvm.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::probe::facts::{DeviceFacts, DeviceNode};

pub(super) fn devices(dev: &Path) -> DeviceFacts {
    DeviceFacts {
        fuse: device_node(&dev.join("fuse")),
        net_tun: device_node(&dev.join("net/tun")),
        kvm: device_node(&dev.join("kvm")),
    }
}

/// The character device at `path`; None when it is absent or not a character device.
fn device_node(path: &Path) -> Option<DeviceNode> {
    let meta = std::fs::metadata(path).ok()?;
    meta.file_type()
        .is_char_device()
        .then(|| decode_device(&path.display().to_string(), meta.rdev(), meta.mode()))
}

/// Major and minor from a device number, permission bits from a file mode.
fn decode_device(path: &str, rdev: u64, mode: u32) -> DeviceNode {
    DeviceNode {
        path: path.to_string(),
        major: libc::major(rdev),
        minor: libc::minor(rdev),
        mode: mode & 0o777,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::tree;

    #[test]
    fn device_numbers_and_permission_bits_decode() {
        let node = decode_device("/dev/net/tun", libc::makedev(10, 200), 0o020600);
        assert_eq!(
            node,
            DeviceNode {
                path: "/dev/net/tun".into(),
                major: 10,
                minor: 200,
                mode: 0o600
            }
        );
        // Minor numbers above 255 live in the high bits.
        let node = decode_device("/dev/x", libc::makedev(259, 70000), 0o020666);
        assert_eq!((node.major, node.minor, node.mode), (259, 70000, 0o666));
    }

    #[test]
    fn absent_devices_and_plain_files_are_none() {
        let (_dir, roots) = tree(&[("dev/fuse", "not a device")]);
        assert_eq!(devices(&roots.dev), DeviceFacts::default());
    }

    #[test]
    fn real_dev_null_is_a_character_device() {
        let node = device_node(Path::new("/dev/null")).unwrap();
        assert_eq!((node.major, node.minor, node.mode), (1, 3, 0o666));
    }
}
