package io.edgetunnel.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.agent.config.TcpRoute;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DnsTargetsTests {

    private static ByteBuf rdata(int priority, int weight, int port, String target) {
        ByteBuf out = Unpooled.buffer().writeShort(priority).writeShort(weight).writeShort(port);
        for (String label : target.split("\\.")) {
            out.writeByte(label.length()).writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        return out.writeByte(0);
    }

    @Test
    void parsesSrvData() {
        ByteBuf data = rdata(10, 5, 2222, "a.svc.local");
        assertThat(DnsTargets.parse(data)).isEqualTo(new DnsTargets.Srv(10, 5, 2222, "a.svc.local"));
        data.release();
    }

    @Test
    void refusesACompressedTarget() {
        ByteBuf data = Unpooled.buffer().writeShort(1).writeShort(1).writeShort(1).writeByte(0xC0).writeByte(12);
        assertThatThrownBy(() -> DnsTargets.parse(data)).hasMessageContaining("compressed");
        data.release();
    }

    @Test
    void ordersByPriorityThenByWeightDroppingTheNoServiceTarget() {
        DnsTargets.Srv low = new DnsTargets.Srv(10, 0, 1, "low");
        DnsTargets.Srv heavy = new DnsTargets.Srv(20, 90, 2, "heavy");
        DnsTargets.Srv light = new DnsTargets.Srv(20, 9, 3, "light");
        DnsTargets.Srv none = new DnsTargets.Srv(5, 0, 0, "");
        Map<String, Integer> heavyFirst = new HashMap<>();
        for (int i = 0; i < 2000; i++) {
            List<DnsTargets.Srv> order = DnsTargets.order(List.of(light, none, heavy, low));
            assertThat(order).hasSize(3).startsWith(low);
            heavyFirst.merge(order.get(1).target(), 1, Integer::sum);
        }
        // weight 90 vs 9: the heavy one comes first most of the time, the light one sometimes
        assertThat(heavyFirst.get("heavy")).isGreaterThan(heavyFirst.getOrDefault("light", 0));
        assertThat(heavyFirst.get("light")).isPositive();
    }

    @Test
    void tcpRoutesTakeDnsTargets() {
        assertThat(new TcpRoute("a", "dns+srv://_app._tcp.svc.local").asRoute().localUrl().getScheme()).isEqualTo("dns+srv");
        assertThat(new TcpRoute("b", "dns://db.svc.local:5432").asRoute().localUrl().getPort()).isEqualTo(5432);
        assertThatThrownBy(() -> new TcpRoute("c", "dns://db.svc.local")).hasMessageContaining("expected: host:port");
        assertThatThrownBy(() -> new TcpRoute("d", "dns+srv://_app._tcp.svc.local:53")).hasMessageContaining("expected");
    }

    @Test
    void problemNamesWhatIsWrongWithATargetUrl() {
        assertThat(DnsTargets.problem(java.net.URI.create("dns+srv://_app._tcp.svc.local/base"))).isNull();
        assertThat(DnsTargets.problem(java.net.URI.create("dns://app.svc.local:8080"))).isNull();
        assertThat(DnsTargets.problem(java.net.URI.create("dns+srv://_app._tcp.svc.local:80")))
                .isEqualTo("a port (the SRV records give it)");
        assertThat(DnsTargets.problem(java.net.URI.create("dns://app.svc.local"))).isEqualTo("no host name and port");
        assertThat(DnsTargets.problem(java.net.URI.create("dns+srv:/_app._tcp.svc.local"))).isEqualTo("no name");
        assertThat(DnsTargets.problem(java.net.URI.create("dns://u@app.svc.local:80"))).isEqualTo("no name");
        assertThat(DnsTargets.byDns(java.net.URI.create("http://127.0.0.1:80"))).isFalse();
    }
}
