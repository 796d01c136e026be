//! NAT for the inner engine's networks where the kernel has no nftables NAT.
//!
//! An inner engine's bridge networks need a nat table in the sandbox's own
//! network namespace. Where the kernel lacks CONFIG_NFT_NAT (Debian 13's
//! user-mode kernel, for one), iptables-nft cannot make one, and the init
//! switches the sandbox's iptables to the legacy backend, which can. Legacy
//! iptables talks to the kernel through a raw socket, which needs NET_RAW;
//! Docker gives it to every container, Podman does not (and without it
//! netavark fails with "can't initialize iptables table `nat': Permission
//! denied (you must be root)"). So a Podman sandbox gets NET_RAW there, for
//! its own network namespace only.

use crate::probe::facts::{EngineFacts, HostFacts};
use crate::spec::{Privilege, Why};

use super::dind::short_cap;
use super::runtime::Family;
use super::{Mode, Plan, Request};

const CAP: &str = "CAP_NET_RAW";

pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    if req.mode != Mode::Dind || host.nft_nat != Some(false) || plan.inner.engine.is_none() {
        return;
    }
    // A kernel of the sandbox's own (Kata, RunCVM), gVisor's and sysbox's
    // have NAT or capabilities of their own; --privileged has every capability.
    let own_recipe = Family::of_request(req).is_some_and(Family::isolates_by_itself);
    let cap = Privilege::Cap(short_cap(CAP).to_string());
    if own_recipe
        || plan.spec.has_privilege(&Privilege::All)
        || plan.spec.has_privilege(&cap)
        || engine.kind.default_caps().contains(&CAP)
    {
        return;
    }
    if !host.has_cap(CAP) {
        plan.notes.push("this kernel has no nftables NAT, and legacy iptables, which has it, needs NET_RAW, which is not in the capability bounding set: the inner engine's bridge networks cannot start; nested containers on the sandbox's own network (`--network host`) still run".into());
        return;
    }
    plan.spec.privileges.push(Why::new(
        vec![cap],
        "this kernel has no nftables NAT (CONFIG_NFT_NAT): the inner engine's bridge networks get NAT from legacy iptables, which opens a raw socket (in the sandbox's own network namespace)",
    ));
}

#[cfg(test)]
mod tests {
    use crate::engine::EngineKind;
    use crate::plan::Mode;
    use crate::plan::tests::{has, plan, request};
    use crate::probe::facts::HostFacts;
    use crate::probe::fixtures::this_machine;

    fn host(nft_nat: Option<bool>) -> HostFacts {
        HostFacts {
            nft_nat,
            ..this_machine()
        }
    }

    fn net_raw_count(engine: EngineKind, inner: EngineKind, host: &HostFacts) -> usize {
        let p = plan(&request(Mode::Dind, Some(engine), inner), host);
        p.command()
            .run
            .iter()
            .filter(|a| a.args == ["--cap-add", "NET_RAW"])
            .count()
    }

    #[test]
    fn podman_sandboxes_get_net_raw_where_the_kernel_has_no_nftables_nat() {
        let p = plan(
            &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman),
            &host(Some(false)),
        );
        assert!(has(&p, &["--cap-add", "NET_RAW"]), "{:?}", p.argv());
        let why = p
            .command()
            .run
            .iter()
            .find(|a| a.args == ["--cap-add", "NET_RAW"])
            .unwrap()
            .why
            .clone();
        assert!(why.contains("no nftables NAT"), "{why}");
        for nat in [None, Some(true)] {
            assert_eq!(
                net_raw_count(EngineKind::Podman, EngineKind::Podman, &host(nat)),
                0,
                "{nat:?}: iptables-nft has NAT there, and needs no raw socket"
            );
        }
    }

    #[test]
    fn where_the_sandbox_has_net_raw_already_nothing_is_added() {
        let h = host(Some(false));
        assert_eq!(
            net_raw_count(EngineKind::Podman, EngineKind::Docker, &h),
            1,
            "an inner dockerd's default, given once"
        );
        assert_eq!(
            net_raw_count(EngineKind::Docker, EngineKind::Podman, &h),
            0,
            "Docker's default"
        );
        let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman);
        req.privileged = true;
        assert!(!has(&plan(&req, &h), &["--cap-add", "NET_RAW"]));
        let common = plan(
            &request(Mode::Common, Some(EngineKind::Podman), EngineKind::Podman),
            &h,
        );
        assert!(!has(&common, &["--cap-add", "NET_RAW"]), "no inner engine");
    }

    #[test]
    fn without_net_raw_in_the_bounding_set_the_plan_says_what_is_lost() {
        let mut h = host(Some(false));
        h.caps.bounding.retain(|c| c != "CAP_NET_RAW");
        let p = plan(
            &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman),
            &h,
        );
        assert!(!has(&p, &["--cap-add", "NET_RAW"]));
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("no nftables NAT") && n.contains("--network host")),
            "{:#?}",
            p.notes
        );
    }
}
