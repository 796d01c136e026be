//! Whether the kernel has nftables' NAT (CONFIG_NFT_NAT), which iptables-nft
//! needs for a nat table. Where it is missing, an inner engine's firewall
//! (netavark, dockerd) has NAT only through legacy iptables.

use std::path::Path;

use super::read;

/// The modules CONFIG_NFT_NAT builds: the nat chain type and the nat expression.
const NFT_NAT_MODULES: &[&str] = &["nft_chain_nat", "nft_nat"];

/// Some(true) where nftables' NAT is loaded, built in or can be loaded;
/// Some(false) where the kernel's module lists (`/lib/modules/RELEASE`) are
/// there and name neither module; None where nothing tells (a kernel without
/// modules, whose /proc/modules is absent, or a container without them).
pub(super) fn nft_nat(proc: &Path, sys: &Path, root: &Path, release: &str) -> Option<bool> {
    let loaded = read(&proc.join("modules")).is_some_and(|text| {
        text.lines()
            .filter_map(|l| l.split_whitespace().next())
            .any(|name| NFT_NAT_MODULES.contains(&name))
    }) || NFT_NAT_MODULES
        .iter()
        .any(|m| sys.join("module").join(m).is_dir());
    if loaded {
        return Some(true);
    }
    if release.is_empty() {
        return None;
    }
    let dir = root.join("lib/modules").join(release);
    let builtin = read(&dir.join("modules.builtin"));
    let dep = read(&dir.join("modules.dep"));
    if builtin.is_none() && dep.is_none() {
        return None;
    }
    let names = |text: &Option<String>| {
        text.as_deref().is_some_and(|t| {
            t.lines()
                .filter_map(|l| l.split(':').next())
                .any(|path| NFT_NAT_MODULES.contains(&module_name(path)))
        })
    };
    Some(names(&builtin) || names(&dep))
}

/// `kernel/net/netfilter/nft_nat.ko.xz` -> `nft_nat`.
fn module_name(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.split('.').next().unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::tree;

    const RELEASE: &str = "6.12.113";

    fn fact(files: &[(&str, &str)]) -> Option<bool> {
        let (_dir, roots) = tree(files);
        nft_nat(&roots.proc, &roots.sys, &roots.root, RELEASE)
    }

    #[test]
    fn missing_where_the_module_lists_name_neither_module() {
        // Debian 13's user-mode kernel: iptables' NAT, not nftables'.
        let dep = "kernel/net/netfilter/nf_nat.ko: kernel/net/netfilter/nf_conntrack.ko\n\
                   kernel/net/netfilter/nft_masq.ko: kernel/net/netfilter/nf_tables.ko\n\
                   kernel/net/ipv4/netfilter/iptable_nat.ko: kernel/net/ipv4/netfilter/ip_tables.ko\n";
        let modules = "iptable_nat 12288 1 - Live 0x0\nnf_tables 208896 0 - Live 0x0\n";
        assert_eq!(
            fact(&[
                ("root/lib/modules/6.12.113/modules.dep", dep),
                (
                    "root/lib/modules/6.12.113/modules.builtin",
                    "kernel/net/ipv4/tcp.ko\n"
                ),
                ("proc/modules", modules),
            ]),
            Some(false)
        );
    }

    #[test]
    fn present_where_loaded_built_in_or_loadable() {
        let loaded = "nft_chain_nat 12288 1 - Live 0x0\nnf_nat 36864 3 - Live 0x0\n";
        assert_eq!(fact(&[("proc/modules", loaded)]), Some(true));
        assert_eq!(fact(&[("sys/module/nft_nat/refcnt", "0\n")]), Some(true));
        assert_eq!(
            fact(&[(
                "root/lib/modules/6.12.113/modules.builtin",
                "kernel/net/netfilter/nft_chain_nat.ko\n"
            )]),
            Some(true)
        );
        assert_eq!(
            fact(&[(
                "root/lib/modules/6.12.113/modules.dep",
                "kernel/net/netfilter/nft_chain_nat.ko.xz: kernel/net/netfilter/nf_nat.ko.xz\n"
            )]),
            Some(true)
        );
    }

    #[test]
    fn unknown_without_module_lists() {
        // A kernel without modules (this build machine's): no /proc/modules, no /lib/modules.
        assert_eq!(fact(&[]), None);
        assert_eq!(
            fact(&[("proc/modules", "dummy 12288 0 - Live 0x0\n")]),
            None
        );
        let (_dir, roots) = tree(&[("root/lib/modules/6.12.113/modules.dep", "")]);
        assert_eq!(nft_nat(&roots.proc, &roots.sys, &roots.root, ""), None);
    }
}
