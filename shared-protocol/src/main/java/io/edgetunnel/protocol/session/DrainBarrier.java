package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.Frame;
import java.util.List;

/**
 * Both halves of the drain barrier (protocol section 10). Draining stops new streams. The acceptor
 * follows its Drain with a Ping of {@link #PAYLOAD}; the opener handles frames in order and answers
 * on the queue that carries its REQUESTs, so the matching Pong proves every stream opened before the
 * opener saw the Drain has arrived: then the acceptor's drain is settled. The opener's own Drain
 * means "no REQUEST follows", so it goes out behind every REQUEST already queued and none after.
 */
final class DrainBarrier {

    static final long PAYLOAD = 0x4452_4149_4E42_4152L;

    private final Role role;
    private volatile boolean draining;
    private volatile boolean settled;
    /** Event loop only: our Drain is queued or the peer's arrived, so no REQUEST may go out. */
    private boolean requestsClosed;

    DrainBarrier(Role role) {
        this.role = role;
    }

    boolean draining() {
        return draining;
    }

    /** No new streams from now on (any thread). */
    void stopAdmitting() {
        draining = true;
    }

    boolean settled() {
        return settled;
    }

    void settle() {
        settled = true;
    }

    /** Event loop: whether a REQUEST may still be queued. */
    boolean requestsClosed() {
        return requestsClosed;
    }

    /** Event loop: our drain; the frames to queue for it. */
    List<Frame> ownDrain(String reason) {
        if (role == Role.OPENER) {
            requestsClosed = true;
            return List.of(new Frame.Drain(reason));
        }
        return List.of(new Frame.Drain(reason), new Frame.Ping(PAYLOAD));
    }

    /** Event loop: the peer's Drain; returns whether we were draining already. */
    boolean onPeerDrain() {
        boolean was = draining;
        draining = true;
        requestsClosed = true;
        if (role == Role.ACCEPTOR) {
            // the opener sends no REQUEST after its own Drain: nothing can still be on the way
            settled = true;
        }
        return was;
    }

    /** Event loop: a Pong; true when it settled our drain. */
    boolean onPong(long payload) {
        if (payload == PAYLOAD && role == Role.ACCEPTOR && draining) {
            settled = true;
            return true;
        }
        return false;
    }
}
