package io.edgetunnel.ingress.support;

import io.edgetunnel.protocol.Frame;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The protocol-level agent of the public-edge tests ({@link EdgeIngressTest}): one per test,
 * registered for the hosts a test names, closed after it. Register it as a {@code @RegisterExtension}
 * field.
 */
public final class EdgeAgents implements AfterEachCallback {

    private FakeAgent agent;

    /** An agent {@code edge-HOST} registered on the tunnel port for {@code hosts}, answering with {@code responder}. */
    public FakeAgent register(int tunnelPort, FakeAgent.Responder responder, String... hosts) {
        agent = FakeAgent.registered(tunnelPort, "edge-" + hosts[0], IngressTest.TOKEN, responder, hosts);
        return agent;
    }

    /** Answers every complete request (a WebSocket upgrade never completes) with 200 "ok". */
    public static void ok(FakeAgent agent, Frame.Request request, byte[] body) {
        agent.respond(request.streamId(), 200, List.of(), "ok".getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (agent != null) {
            agent.close();
            agent = null;
        }
    }
}
