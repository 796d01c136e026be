//! The few rtnetlink requests the init makes to move the sandbox's network
//! interfaces into the user namespace's network namespace and set them up
//! there again: the image need not have `ip`.

use std::net::IpAddr;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// The kernel's main routing table (RT_TABLE_MAIN).
const MAIN_TABLE: u8 = 254;

/// An interface's address, as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub ip: IpAddr,
    pub prefix: u8,
    /// Global scope (not a link-local or host address).
    pub global: bool,
}

/// A route socket of the current network namespace.
pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    pub fn new() -> Result<Self, String> {
        let mut socket =
            Socket::new(NETLINK_ROUTE).map_err(|e| format!("a netlink socket: {e}"))?;
        socket
            .bind_auto()
            .map_err(|e| format!("binding a netlink socket: {e}"))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| format!("connecting a netlink socket: {e}"))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Send one request; the messages of its answer, until it is done or acknowledged.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, String> {
        self.seq += 1;
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf[..]);
        self.socket
            .send(&buf[..], 0)
            .map_err(|e| format!("sending to netlink: {e}"))?;
        let mut out = Vec::new();
        let mut receive = vec![0; 1 << 16];
        loop {
            let size = self
                .socket
                .recv(&mut &mut receive[..], 0)
                .map_err(|e| format!("reading from netlink: {e}"))?;
            let mut offset = 0;
            while offset < size {
                let reply: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&receive[offset..size])
                        .map_err(|e| format!("a netlink answer: {e}"))?;
                let length = reply.header.length as usize;
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(code) => {
                                Err(std::io::Error::from_raw_os_error(-code.get()).to_string())
                            }
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    fn change(&mut self, message: RouteNetlinkMessage, what: &str) -> Result<(), String> {
        self.request(
            message,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(|_| ())
        .map_err(|e| format!("{what}: {e}"))
    }

    /// Every interface: index and name.
    pub fn links(&mut self) -> Result<Vec<(u32, String)>, String> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => {
                    let name = l.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some(n.clone()),
                        _ => None,
                    })?;
                    Some((l.header.index, name))
                }
                _ => None,
            })
            .collect())
    }

    pub fn index_of(&mut self, name: &str) -> Result<u32, String> {
        self.links()?
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(i, _)| i)
            .ok_or_else(|| format!("no network interface {name}"))
    }

    /// Every address of every interface, IPv4 and IPv6.
    pub fn addresses(&mut self) -> Result<Vec<Address>, String> {
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => {
                    let ip = a.attributes.iter().find_map(|at| match at {
                        AddressAttribute::Local(ip) => Some(*ip),
                        _ => None,
                    });
                    let ip = ip.or_else(|| {
                        a.attributes.iter().find_map(|at| match at {
                            AddressAttribute::Address(ip) => Some(*ip),
                            _ => None,
                        })
                    })?;
                    Some(Address {
                        index: a.header.index,
                        ip,
                        prefix: a.header.prefix_len,
                        global: a.header.scope == AddressScope::Universe,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// Default routes of the main table: output interface and gateway.
    pub fn default_gateways(&mut self) -> Result<Vec<(u32, IpAddr)>, String> {
        let replies = self.request(
            RouteNetlinkMessage::GetRoute(RouteMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.destination_prefix_length == 0 && r.header.table == MAIN_TABLE =>
                {
                    let oif = r.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Oif(i) => Some(*i),
                        _ => None,
                    })?;
                    let gw = r.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(RouteAddress::Inet(ip)) => Some(IpAddr::V4(*ip)),
                        RouteAttribute::Gateway(RouteAddress::Inet6(ip)) => Some(IpAddr::V6(*ip)),
                        _ => None,
                    })?;
                    Some((oif, gw))
                }
                _ => None,
            })
            .collect())
    }

    /// Move interface `index` into the network namespace of process `pid`.
    pub fn move_to(&mut self, index: u32, pid: u32) -> Result<(), String> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(LinkAttribute::NetNsPid(pid));
        self.request(RouteNetlinkMessage::SetLink(m), NLM_F_REQUEST | NLM_F_ACK)
            .map(|_| ())
            .map_err(|e| format!("moving interface {index} into process {pid}'s network: {e}"))
    }

    pub fn set_up(&mut self, index: u32) -> Result<(), String> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(m), NLM_F_REQUEST | NLM_F_ACK)
            .map(|_| ())
            .map_err(|e| format!("bringing interface {index} up: {e}"))
    }

    pub fn add_address(&mut self, index: u32, ip: IpAddr, prefix: u8) -> Result<(), String> {
        let mut m = AddressMessage::default();
        m.header.index = index;
        m.header.prefix_len = prefix;
        m.header.scope = AddressScope::Universe;
        match ip {
            IpAddr::V4(_) => {
                m.header.family = AddressFamily::Inet;
                m.attributes.push(AddressAttribute::Local(ip));
            }
            IpAddr::V6(_) => {
                m.header.family = AddressFamily::Inet6;
                // It was the sandbox's already: no duplicate detection.
                m.header.flags = AddressHeaderFlags::Nodad;
            }
        }
        m.attributes.push(AddressAttribute::Address(ip));
        self.change(
            RouteNetlinkMessage::NewAddress(m),
            &format!("adding {ip}/{prefix}"),
        )
    }

    pub fn add_default_route(&mut self, index: u32, gateway: IpAddr) -> Result<(), String> {
        let mut m = RouteMessage::default();
        m.header.address_family = match gateway {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        m.header.table = MAIN_TABLE;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
        m.attributes.push(RouteAttribute::Oif(index));
        self.change(
            RouteNetlinkMessage::NewRoute(m),
            &format!("adding the default route via {gateway}"),
        )
    }
}
