package io.edgetunnel.agent.tunnel;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import java.util.Set;

final class DebugDump {
    static Object get(Object o, String name) throws Exception {
        Class<?> c = o.getClass();
        while (c != null) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                c = c.getSuperclass();
            }
        }
        throw new NoSuchFieldException(name);
    }

    static String dump(TunnelClient client) {
        StringBuilder out = new StringBuilder();
        try {
            for (Object slot : (List<?>) get(client, "slots")) {
                for (Object session : (Set<?>) get(slot, "live")) {
                    for (Object stream : ((Map<?, ?>) get(session, "streams")).values()) {
                        Object body = get(stream, "responseBody");
                        out.append("stream ").append(get(stream, "id")).append(" body=");
                        if (body != null) {
                            for (String f : new String[] {"credit", "wip", "incoming", "pending", "awaitingItem", "finished", "sourceDone", "sourceError", "cancelled", "subscription"}) {
                                out.append(f).append('=').append(get(body, f)).append(' ');
                            }
                        }
                        out.append(" pendingCredit=").append(get(stream, "pendingCredit"));
                    }
                }
            }
        } catch (Exception e) {
            out.append(e);
        }
        return out.toString();
    }
}
