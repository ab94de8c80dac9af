package io.edgetunnel.agent.tunnel;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import reactor.netty.http.HttpResources;
import reactor.netty.resources.LoopResources;

/**
 * The event loop each tunnel runs on: tunnel {@code i} on loop {@code i mod n}. Left to Reactor
 * Netty's round-robin chooser, two tunnels dialled with any odd number of other registrations
 * between them (the management server, a health probe) share one loop, and as the agent runs each
 * stream's local connection on its tunnel's loop, all its traffic then runs on one core (measured:
 * one busy loop of two under load).
 */
final class TunnelLoops {

    private final List<EventLoop> loops;

    private TunnelLoops(List<EventLoop> loops) {
        this.loops = List.copyOf(loops);
    }

    /** The loops Reactor Netty's clients use by default (one per processor, {@code EventLoopSizing}). */
    static TunnelLoops ofDefaultClients() {
        return of(HttpResources.get().onClient(LoopResources.DEFAULT_NATIVE));
    }

    static TunnelLoops of(EventLoopGroup group) {
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor executor : group) {
            if (executor instanceof EventLoop loop) {
                loops.add(loop);
            }
        }
        return new TunnelLoops(loops);
    }

    /** The loop of tunnel {@code index}, or null to leave the choice to Reactor Netty (no loops known). */
    EventLoop forTunnel(int index) {
        return loops.isEmpty() ? null : loops.get(Math.floorMod(index, loops.size()));
    }
}
