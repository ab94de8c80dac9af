package io.edgetunnel.runtime.tcp;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;

/**
 * PROXY protocol headers (HAProxy's v1 text and v2 binary) for a connection whose client address is
 * {@code source} and whose original destination is {@code destination}, both {@code ip:port} or
 * {@code [v6]:port} as carried in a TCP stream's REQUEST (spec section 20).
 */
public final class ProxyHeaders {

    private ProxyHeaders() {
    }

    /** A PROXY header of {@code version}; {@code UNKNOWN} (v1) / {@code LOCAL} (v2) when an address is not usable. */
    public static HAProxyMessage of(HAProxyProtocolVersion version, String source, String destination) {
        Address src = Address.parse(source);
        Address dst = Address.parse(destination);
        if (src == null || dst == null || src.v6() != dst.v6()) {
            return version == HAProxyProtocolVersion.V1
                    ? new HAProxyMessage(version, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0)
                    : new HAProxyMessage(version, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        }
        HAProxyProxiedProtocol protocol = src.v6() ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4;
        return new HAProxyMessage(version, HAProxyCommand.PROXY, protocol, src.ip(), dst.ip(), src.port(), dst.port());
    }

    /** {@code ip:port} of a decoded header's source, as a TCP stream carries it; null when it has none. */
    public static String source(HAProxyMessage header) {
        return header.sourceAddress() == null ? null : format(header.sourceAddress(), header.sourcePort());
    }

    /** {@code ip:port} of a decoded header's destination; null when it has none. */
    public static String destination(HAProxyMessage header) {
        return header.destinationAddress() == null ? null : format(header.destinationAddress(), header.destinationPort());
    }

    private static String format(String ip, int port) {
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + port;
    }

    private record Address(String ip, int port, boolean v6) {
        static Address parse(String value) {
            if (value == null) {
                return null;
            }
            int colon = value.lastIndexOf(':');
            if (colon <= 0) {
                return null;
            }
            String ip = value.substring(0, colon);
            if (ip.startsWith("[") && ip.endsWith("]")) {
                ip = ip.substring(1, ip.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(value.substring(colon + 1));
            } catch (NumberFormatException e) {
                return null;
            }
            if (port < 0 || port > 65535) {
                return null;
            }
            if (NetUtil.isValidIpV4Address(ip)) {
                return new Address(ip, port, false);
            }
            return NetUtil.isValidIpV6Address(ip) ? new Address(ip, port, true) : null;
        }
    }
}
