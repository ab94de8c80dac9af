package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.tunnel.StreamOpener;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.session.StreamEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a {@link TcpConnection}'s stream goes, as {@code proxy.TunnelAttempt} decides for HTTP: a tunnel
 * of this replica claiming the route, else (with peer links) the peer link to a replica holding it. A
 * stream that was not taken (the agent refused it, its tunnel closed or began draining before the
 * REQUEST went out; a holder could not be reached or holds no agent after all) goes elsewhere once:
 * another local tunnel, else a holder. The client's socket is read only after the agent's 200, so
 * nothing of the client's went anywhere yet and that is always safe.
 */
final class TcpAttempt {

    private static final Logger log = LoggerFactory.getLogger(TcpAttempt.class);

    private final TcpConnection connection;
    private final String route;
    private final RouteClaim claim;
    /** Null without peer links. */
    private final PeerLinks links;
    /** This replica's tunnels for the route, null if none; once forwarded, the other replicas holding it. */
    private volatile RouteEntry<Tunnel> local;
    private volatile RouteEntry<Tunnel> holders;
    /** Where the current stream went (null before, or when none took it); the replica, once forwarded. */
    private volatile StreamOpener opener;
    private volatile RemoteReplica holder;
    private volatile boolean mayRetry = true;

    TcpAttempt(TcpConnection connection, String route, RouteClaim claim, PeerLinks links) {
        this.connection = connection;
        this.route = route;
        this.claim = claim;
        this.links = links;
    }

    /** Opens the stream on a tunnel of an agent claiming the route, or a holder's link; none: gives up. */
    void open(AgentRegistry registry) {
        RouteEntry<Tunnel> entry = registry.match(claim.host(), "/");
        local = entry;
        // a tunnel may fill up or close between the pick and the open: one more pick, as for HTTP
        if (!openLocal(null, 2) && !forwardToHolder()) {
            connection.giveUp(entry == null ? "no_route" : "no_agent");
        }
    }

    /** Who serves the stream, for the access line: an agent's id, {@code replica:<id>}, or "-". */
    String agentId() {
        StreamOpener current = opener;
        return current == null ? "-" : current.agentId();
    }

    /**
     * Whether the stream, ended by {@code end} before the agent answered, goes elsewhere: it was not
     * taken and this is the connection's first retry. Then call {@link #retry}.
     */
    boolean retries(StreamEnd end) {
        if (!mayRetry || !notTaken(end, holder != null)) {
            return false;
        }
        mayRetry = false;
        log.debug("tcp connection of route {}: {} did not take it ({}); trying elsewhere", route, agentId(), end);
        return true;
    }

    /**
     * Opens the stream again, elsewhere: a holder refused, another holder; an agent of this replica,
     * another tunnel of the route, else a holder. False (nothing opened) if there is none of those; true
     * also when the holder's link is still being dialled or that fails (then the connection gives up).
     */
    boolean retry() {
        if (holder != null) {
            forward(holder);
            return true;
        }
        StreamOpener refusing = opener;
        if (openLocal(refusing instanceof Tunnel tunnel ? tunnel : null, 1) || forwardToHolder()) {
            return true;
        }
        opener = refusing;
        return false;
    }

    /**
     * The agent's (or holder's) answer that nothing was done with the stream: refused, gone before the
     * REQUEST went out, or (only a holder says so, its directory entry being stale) no route.
     */
    private static boolean notTaken(StreamEnd end, boolean byHolder) {
        return end instanceof StreamEnd.PeerReset reset && (reset.code() == ResetCode.REFUSED_STREAM
                        || byHolder && reset.code() == ResetCode.NO_ROUTE)
                || end instanceof StreamEnd.TunnelClosed closed && !closed.sent();
    }

    /** Opens the stream on a tunnel of this replica other than {@code excluded}; false if none took it. */
    private boolean openLocal(Tunnel excluded, int picks) {
        RouteEntry<Tunnel> entry = local;
        for (int pick = 0; pick < picks && entry != null; pick++) {
            if (!(entry.pick(excluded) instanceof TunnelSession session)) {
                break;
            }
            opener = session;
            if (connection.openOn(session) != null) {
                return true;
            }
            excluded = session;
        }
        opener = null;
        return false;
    }

    /** With peer links and a replica holding the route: the stream goes there; false otherwise. */
    private boolean forwardToHolder() {
        RouteEntry<Tunnel> remote = links == null ? null : links.holders(claim.host(), "/");
        if (remote == null) {
            return false;
        }
        holders = remote;
        forward(null);
        return true;
    }

    /** Opens the stream on the peer link to a replica holding the route (dialled if need be). */
    private void forward(RemoteReplica excluded) {
        if (!(holders.pick(excluded) instanceof RemoteReplica peer)) {
            connection.giveUp("no_agent");
            return;
        }
        holder = peer;
        links.link(peer).subscribe(link -> {
            if (connection.isFinished()) {
                return; // the client went away while the link was dialled
            }
            opener = link;
            if (connection.openOn(link) == null) {
                refusedByHolder(peer, "link full or draining");
            }
        }, error -> refusedByHolder(peer, error.getMessage()));
    }

    /** The holder could not take the stream and nothing was read from the client: another holder, once. */
    private void refusedByHolder(RemoteReplica peer, String why) {
        if (mayRetry && !connection.isFinished()) {
            mayRetry = false;
            log.debug("tcp connection of route {}: replica {} did not take it ({}); trying another holder", route,
                    peer.id(), why);
            forward(peer);
        } else {
            connection.giveUp("no_agent");
        }
    }
}
