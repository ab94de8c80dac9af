package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The streams of one connection by id. The map is touched on the connection's event loop only;
 * the count of streams (for admission and gauges) and the next id are read from any thread.
 */
final class StreamTable {

    private final Role role;
    private final Map<Integer, TunnelStream> streams = new HashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger nextId = new AtomicInteger(1);

    StreamTable(Role role) {
        this.role = role;
    }

    int active() {
        return active.get();
    }

    /**
     * Opener: reserves a slot below {@code max} and the next id (ids strictly increase and are
     * never reused). Returns the id, -1 at the limit, 0 once ids ran out.
     */
    int admit(int max) {
        if (active.incrementAndGet() > max) {
            active.decrementAndGet();
            return -1;
        }
        int id = nextId.getAndIncrement();
        if (id <= 0) {
            active.decrementAndGet();
            return 0;
        }
        return id;
    }

    /** Acceptor: a stream joins (event loop). */
    void add(TunnelStream stream) {
        active.incrementAndGet();
        streams.put(stream.id(), stream);
    }

    /** Opener: an admitted stream's REQUEST is going out (event loop). */
    void put(TunnelStream stream) {
        streams.put(stream.id(), stream);
    }

    /** A counted stream ended; any thread. */
    void uncount() {
        active.decrementAndGet();
    }

    void remove(TunnelStream stream) {
        streams.remove(stream.id(), stream);
    }

    boolean contains(int id) {
        return streams.containsKey(id);
    }

    boolean isEmpty() {
        return streams.isEmpty();
    }

    /** Empties the table, returning what was in it. */
    List<TunnelStream> removeAll() {
        List<TunnelStream> all = new ArrayList<>(streams.values());
        streams.clear();
        return all;
    }

    /**
     * Hands a stream frame to its stream. The one rule for late frames (protocol section 7.2): a frame
     * for a stream that is not open is discarded silently, DATA content released; only the opener
     * closes with 4005 on a stream it never opened (section 7.1).
     */
    void dispatch(Frame frame) {
        int id = frame.streamId();
        TunnelStream stream = streams.get(id);
        if (stream != null) {
            stream.receive(frame);
            return;
        }
        TunnelStream.release(frame);
        if (role == Role.OPENER && id >= nextId.get()) {
            throw new ProtocolException(CloseCode.STREAM_ERROR, frame.getClass().getSimpleName() + " on stream " + id
                    + " (expected: a stream the ingress opened)");
        }
    }
}
