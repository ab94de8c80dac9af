package io.edgetunnel.ingress.security.policy;

import io.edgetunnel.ingress.security.HelloSource;
import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Which peers may tell us the client address ({@code ingress.proxy.trusted-proxies}, CIDRs; env
 * {@code INGRESS_PROXY_TRUSTED_PROXIES}, e.g. the ALB subnets). Behind an ALB every tunnel comes
 * from an ALB node; keying the failed-hello back-off on that would let a stranger delay every agent.
 * From a trusted peer the source is the rightmost {@code X-Forwarded-For} entry (the one the ALB
 * appended; entries to its left are the client's own claims). From anyone else it is the peer.
 */
public final class TrustedProxies {

    private record Block(byte[] network, int prefix) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Block> blocks;

    private TrustedProxies(List<Block> blocks) {
        this.blocks = List.copyOf(blocks);
    }

    public static TrustedProxies none() {
        return new TrustedProxies(List.of());
    }

    public static TrustedProxies of(List<String> cidrs) {
        List<Block> blocks = new ArrayList<>();
        for (String cidr : cidrs) {
            String c = cidr.trim();
            if (c.isEmpty()) {
                continue;
            }
            int slash = c.indexOf('/');
            byte[] network = literal(slash < 0 ? c : c.substring(0, slash));
            int prefix;
            try {
                prefix = slash < 0 ? network.length * 8 : Integer.parseInt(c.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (network == null || prefix < 0 || prefix > network.length * 8) {
                throw new IllegalArgumentException("ingress.proxy.trusted-proxies: " + c
                        + " (expected: CIDRs such as 10.0.0.0/16)");
            }
            blocks.add(new Block(network, prefix));
        }
        return new TrustedProxies(blocks);
    }

    /** The address the back-off is keyed by, or null when unknown. */
    public String sourceOf(HelloSource source) {
        if (source == null) {
            return null;
        }
        String peer = PolicyAuthenticator.sourceOf(source.remoteAddress());
        String forwarded = source.forwardedFor();
        if (peer == null || forwarded == null || forwarded.isBlank() || !trusted(peer)) {
            return peer;
        }
        String last = forwarded.substring(forwarded.lastIndexOf(',') + 1).trim();
        return literal(last) == null ? peer : last;
    }

    /** Whether {@code ip} (a literal address) is inside one of the trusted CIDRs. */
    public boolean trusted(String ip) {
        if (blocks.isEmpty()) {
            return false; // asked for every public request: nothing to parse when nothing is trusted
        }
        byte[] address = literal(ip);
        if (address == null) {
            return false;
        }
        for (Block block : blocks) {
            if (block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses an IP literal only: never a DNS lookup. Netty's parser, no regular expression or
     * {@code InetAddress}: this runs for every public request from a trusted peer.
     */
    private static byte[] literal(String value) {
        // a bare literal only: Netty would also take "[::1]" and "fe80::1%eth0"
        if (value == null || value.indexOf('[') >= 0 || value.indexOf('%') >= 0) {
            return null;
        }
        byte[] address = NetUtil.createByteArrayFromIpAddressString(value);
        if (address != null && address.length == 16 && isIpv4Mapped(address)) {
            // ::ffff:a.b.c.d is the IPv4 address, as the JDK reads it, so IPv4 CIDRs match it
            return new byte[] {address[12], address[13], address[14], address[15]};
        }
        return address;
    }

    private static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    }
}
