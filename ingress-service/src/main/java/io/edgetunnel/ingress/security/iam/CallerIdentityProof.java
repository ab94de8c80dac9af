package io.edgetunnel.ingress.security.iam;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The decoded {@code Hello.identityProof}: the agent's signed, unsent {@code sts:GetCallerIdentity}
 * request. Wire form (written by the agent's {@code CallerIdentityProofSigner}):
 *
 * <pre>{"v":1,"method":"POST","url":"https://sts.eu-west-1.amazonaws.com/",
 *  "headers":[["Host","…"],["X-Amz-Date","…"],…],"body":"Action=GetCallerIdentity&amp;Version=2011-06-15"}</pre>
 *
 * Decoding checks the shape only; {@link CallerIdentityVerifier} checks the content.
 */
record CallerIdentityProof(String method, String url, List<Map.Entry<String, String>> headers, String body) {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> FIELDS = Set.of("v", "method", "url", "headers", "body");
    static final int MAX_HEADERS = 16;

    CallerIdentityProof {
        headers = List.copyOf(headers);
    }

    static CallerIdentityProof decode(String encoded) {
        JsonNode root;
        try {
            root = JSON.readTree(encoded);
        } catch (JacksonException e) {
            throw invalid("not JSON (expected: the agent's encoded sts:GetCallerIdentity request)");
        }
        if (root == null || !root.isObject()) {
            throw invalid("not a JSON object (expected: {v, method, url, headers, body})");
        }
        for (Iterator<String> names = root.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw invalid("unknown field '" + name + "' (expected: only v, method, url, headers, body)");
            }
        }
        JsonNode version = root.get("v");
        if (version == null || !version.isInt() || version.asInt() != 1) {
            throw invalid("version: " + version + " (expected: 1)");
        }
        JsonNode headers = root.get("headers");
        if (headers == null || !headers.isArray() || headers.size() > MAX_HEADERS) {
            throw invalid("headers: not a list of at most " + MAX_HEADERS + " [name, value] pairs");
        }
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (JsonNode pair : headers) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isString() || !pair.get(1).isString()) {
                throw invalid("header: not a [name, value] pair of strings");
            }
            list.add(Map.entry(pair.get(0).asString(), pair.get(1).asString()));
        }
        return new CallerIdentityProof(string(root, "method"), string(root, "url"), list, string(root, "body"));
    }

    private static String string(JsonNode root, String field) {
        JsonNode value = root.get(field);
        if (value == null || !value.isString()) {
            throw invalid(field + ": missing (expected: a string)");
        }
        return value.asString();
    }

    private static IdentityRejection invalid(String what) {
        return new IdentityRejection(io.edgetunnel.protocol.RejectReason.IDENTITY_UNVERIFIED, "identity proof: " + what);
    }
}
