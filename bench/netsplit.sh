# Sourced by bench/server.sh and bench/janus/bench.sh when BENCH_NET=split: puts the server
# and the load generator in two network namespaces joined by a veth pair, so that the
# kernel work of *receiving* each datagram runs on the receiver's CPU.
#
# Why: on loopback the kernel delivers a datagram (IP/UDP input, socket queue, waking the
# reader) inside the sender's sendmmsg, so the server's CPU figure includes the receiving
# participants' share: about 40 % of it in meeting25 (bench/RESULTS.md). On a real network
# that work is done by the participants' machines. Here RPS on each veth end steers what
# arrives to the CPU its reader is pinned to: the generator's packets to the server's CPU
# (the server's own receive work stays charged to it) and the server's to the generator's.
#
# The server end may not offload UDP segmentation (gso_max_segs 1): a GSO burst is cut into
# datagrams in the server's own send call, as with a NIC without UDP segmentation offload,
# so that work stays the server's too.
#
#   netsplit_up      creates the namespaces (unique per shell); sets in_srv / in_gen
#                    (command prefixes), srv_ip / gen_ip, and gen_rx_args: the generator's
#                    options for its packet-ring receive path, when nft is there to give it
#                    (below), else empty
#   netsplit_down    kills what still runs in them and deletes them (set as an EXIT trap
#                    by the caller)
# Needs root, ip (iproute2) and RPS in the kernel (/sys/class/net/*/queues/rx-0/rps_cpus).
# The server's CPU is 0 and the generator's 1, as server.sh pins them.
ns_srv="" ns_gen="" in_srv=() in_gen=() srv_ip="" gen_ip="" gen_rx_args=()

# The generator reads the server's RTP from an AF_PACKET ring on vgen (bench/rx_ring.h): a
# netdev-ingress rule drops RTP (version 2, a dynamic payload type: not RTCP) after the
# ring's tap and before IP, so ~200 k datagrams a second skip UDP input, socket queues and
# recvmmsg on the generator's CPU. STUN, DTLS and RTCP still reach the peers' sockets.
# BENCH_RX=sockets: the generator reads its sockets; =ring: the ring or an error; unset:
# the ring where nft (nftables) is installed, else the sockets.
netsplit_rx_ring() {
  case ${BENCH_RX:-} in
    sockets) return 0 ;;
    ring) command -v nft >/dev/null || { echo "netsplit: BENCH_RX=ring needs nft (nftables)" >&2; return 2; } ;;
    *) command -v nft >/dev/null || return 0 ;;
  esac
  ip netns exec "$ns_gen" nft -f - <<'NFT' || { echo "netsplit: the nft rule was refused" >&2; return 2; }
table netdev dcbench {
  chain ingress {
    type filter hook ingress device vgen priority 0; policy accept;
    meta l4proto udp @th,64,8 & 0xc0 == 0x80 @th,72,8 & 0x7f >= 96 drop
  }
}
NFT
  gen_rx_args=(--rx-ring vgen)
}

netsplit_up() {
  ns_srv=dcbench-srv-$$ ns_gen=dcbench-gen-$$
  srv_ip=198.18.7.1 gen_ip=198.18.7.2  # RFC 2544's benchmarking range, only inside the pair
  ip netns add "$ns_srv" && ip netns add "$ns_gen" &&
  ip link add vsrv netns "$ns_srv" type veth peer name vgen netns "$ns_gen" &&
  ip -n "$ns_srv" addr add "$srv_ip/24" dev vsrv && ip -n "$ns_gen" addr add "$gen_ip/24" dev vgen &&
  ip -n "$ns_srv" link set vsrv gso_max_segs 1 &&
  for n in "$ns_srv" "$ns_gen"; do ip -n "$n" link set lo up; done &&
  ip -n "$ns_srv" link set vsrv up && ip -n "$ns_gen" link set vgen up &&
  ip netns exec "$ns_srv" sh -c 'echo 1 >/sys/class/net/vsrv/queues/rx-0/rps_cpus' &&
  ip netns exec "$ns_gen" sh -c 'echo 2 >/sys/class/net/vgen/queues/rx-0/rps_cpus' || {
    echo "netsplit: cannot set up the namespaces (root, iproute2 and RPS needed)" >&2
    netsplit_down; return 2
  }
  in_srv=(ip netns exec "$ns_srv") in_gen=(ip netns exec "$ns_gen")
  netsplit_rx_ring || { netsplit_down; return 2; }
}

netsplit_down() {
  local n pids
  for n in $ns_srv $ns_gen; do
    pids=$(ip netns pids "$n" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  ns_srv="" ns_gen="" gen_rx_args=()
}
