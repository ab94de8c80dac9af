package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.RejectReason;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Verifies an agent's IAM proof the way HashiCorp Vault's AWS IAM auth does, with the hardening
 * learned since (CVE-2020-16250 and later): the agent signs but never sends an {@code
 * sts:GetCallerIdentity} request; this class checks it and sends it <em>itself</em> to the STS URL
 * it is configured with, then reads the caller from STS's answer. The agent never chooses where the
 * ingress connects.
 *
 * <p>Checked before anything is sent: method {@code POST}; URL equal to the configured STS URL;
 * body exactly {@value #BODY}; headers only from an allow-list, each once; {@code AWS4-HMAC-SHA256}
 * with every sent header signed and {@code host}, {@code x-amz-date} and {@code
 * x-edge-tunnel-server-id} among them; the server id equal to this ingress's; {@code X-Amz-Date}
 * within {@code max-skew}. STS then checks the signature. Sending: HTTP/1.1, no redirects, our own
 * {@code Accept}, 200 only, the answer read by {@link StsAnswer}.
 *
 * <p>Blocking I/O runs on {@code Schedulers.boundedElastic()}.
 */
public final class CallerIdentityVerifier {

    public static final String SERVER_ID_HEADER = "x-edge-tunnel-server-id";
    public static final String NONCE_HEADER = ConnectionNonce.HEADER.toLowerCase(Locale.ROOT);
    public static final String BODY = "Action=GetCallerIdentity&Version=2011-06-15";
    static final Set<String> ALLOWED_HEADERS = Set.of("authorization", "content-type", "host", "x-amz-date",
            "x-amz-security-token", "x-amz-content-sha256", SERVER_ID_HEADER, NONCE_HEADER);
    static final Set<String> REQUIRED_SIGNED = Set.of("host", "x-amz-date", SERVER_ID_HEADER);
    private static final Pattern AUTHORIZATION = Pattern.compile("AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{16,128})/"
            + "(\\d{8})/([a-z0-9-]{1,32})/sts/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,512}), ?Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;

    private final URI stsUrl;
    private final String serverId;
    private final Duration maxSkew;
    private final Duration timeout;
    private final Set<String> allowedAccounts;
    private final Set<String> allowedRoleArns;
    private final boolean requireNonce;
    private final Clock clock;
    private final HttpClient http;
    private final Optional<EcsTaskVerifier> ecs;

    private volatile reactor.core.scheduler.Scheduler scheduler = Schedulers.boundedElastic();

    public CallerIdentityVerifier(IamAuthProperties properties, URI stsUrl, Clock clock, Optional<EcsTaskVerifier> ecs) {
        Objects.requireNonNull(properties, "properties");
        this.stsUrl = Objects.requireNonNull(stsUrl, "stsUrl");
        this.serverId = properties.serverId();
        if (serverId.isEmpty()) {
            throw new IllegalArgumentException("ingress.iam.server-id: empty (expected: a value agents sign, "
                    + "e.g. this ingress's public host name, when ingress.auth.mode includes iam)");
        }
        if (stsUrl.getHost() == null || stsUrl.getRawQuery() != null || stsUrl.getRawUserInfo() != null) {
            throw new IllegalArgumentException("ingress.iam.sts-url: " + stsUrl
                    + " (expected: https://sts.REGION.amazonaws.com/)");
        }
        this.maxSkew = properties.maxSkew();
        this.timeout = properties.timeout();
        this.allowedAccounts = Set.copyOf(properties.allowedAccounts());
        this.allowedRoleArns = Set.copyOf(properties.allowedRoleArns());
        this.requireNonce = properties.requireNonce();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ecs = Objects.requireNonNull(ecs, "ecs");
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout)
                .build();
    }

    /** Runs the blocking calls on {@code scheduler} (the hello verification pool) instead of {@code boundedElastic}. */
    public CallerIdentityVerifier verifyingOn(reactor.core.scheduler.Scheduler scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        return this;
    }

    /** {@code https://sts.REGION.amazonaws.com/}. */
    public static URI regionalStsUrl(String region) {
        return URI.create("https://sts." + region + ".amazonaws.com/");
    }

    public URI stsUrl() {
        return stsUrl;
    }

    /**
     * Checks the proof, sends it to STS, and confirms the task if configured.
     *
     * @return the caller; errors with {@link IdentityRejection} when anything does not hold
     */
    public Mono<IamIdentity> verify(String encodedProof) {
        return verify(encodedProof, "");
    }

    /**
     * As {@link #verify(String)} for a proof that arrived on a connection whose handshake carried
     * {@code nonce}: the proof must sign exactly that nonce ({@code ingress.iam.require-nonce}).
     */
    public Mono<IamIdentity> verify(String encodedProof, String nonce) {
        return Mono.fromCallable(() -> {
                    CheckedProof proof = check(encodedProof, nonce);
                    IamIdentity identity = send(proof);
                    if (allowedAccounts.isEmpty() && allowedRoleArns.isEmpty()) {
                        // an empty allow-list must not mean "any AWS account in the world"
                        throw reject("no account or role is allowed (expected: ingress.iam.allowed-accounts or "
                                + "ingress.iam.allowed-role-arns; an empty list refuses every caller)");
                    }
                    if (!allowedAccounts.isEmpty() && !allowedAccounts.contains(identity.account())) {
                        throw reject("account " + identity.account() + " is not allowed "
                                + "(expected: one of ingress.iam.allowed-accounts)");
                    }
                    if (!allowedRoleArns.isEmpty() && !allowedRoleArns.contains(identity.roleArn())) {
                        throw reject("role " + identity.roleArn() + " is not allowed "
                                + "(expected: one of ingress.iam.allowed-role-arns)");
                    }
                    return ecs.isPresent() ? ecs.get().confirm(identity) : identity;
                })
                .subscribeOn(scheduler);
    }

    /** The request to send, after every local rule held. */
    record CheckedProof(List<Map.Entry<String, String>> headers, String accessKeyId) {}

    /** As {@link #check(String, String)} on a connection without a nonce. */
    CheckedProof check(String encodedProof) {
        return check(encodedProof, "");
    }

    /** Every rule that needs no network; throws {@link IdentityRejection} on the first that fails. */
    CheckedProof check(String encodedProof, String nonce) {
        if (encodedProof == null || encodedProof.isEmpty()) {
            throw reject("no identity proof (expected: a signed sts:GetCallerIdentity request; "
                    + "enable agent.identity.proof on the agent)");
        }
        CallerIdentityProof proof = CallerIdentityProof.decode(encodedProof);
        if (!"POST".equals(proof.method())) {
            throw reject("method: " + clip(proof.method()) + " (expected: POST)");
        }
        if (!sameUrl(proof.url(), stsUrl)) {
            throw reject("url: " + clip(proof.url()) + " (expected: " + stsUrl + ", this ingress's STS endpoint)");
        }
        if (!BODY.equals(proof.body())) {
            throw reject("body: not " + BODY + " (expected: exactly that GetCallerIdentity call)");
        }
        Map<String, String> headers = new HashMap<>();
        for (Map.Entry<String, String> header : proof.headers()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!ALLOWED_HEADERS.contains(name)) {
                throw reject("header " + clip(header.getKey()) + " not allowed (expected: only " + ALLOWED_HEADERS + ")");
            }
            if (headers.put(name, header.getValue()) != null) {
                throw reject("header " + name + " appears more than once (expected: once)");
            }
            if (!header.getValue().chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
                throw reject("header " + name + " has characters outside printable ASCII");
            }
        }
        String authorization = headers.get("authorization");
        if (authorization == null) {
            throw reject("no Authorization header (expected: AWS4-HMAC-SHA256 signature)");
        }
        Matcher auth = AUTHORIZATION.matcher(authorization);
        if (!auth.matches()) {
            throw reject("Authorization: not an AWS4-HMAC-SHA256 signature for sts "
                    + "(expected: Credential=KEY/DATE/REGION/sts/aws4_request, SignedHeaders=…, Signature=…)");
        }
        Set<String> signed = new HashSet<>(Arrays.asList(auth.group(4).split(";")));
        for (String required : REQUIRED_SIGNED) {
            if (!signed.contains(required)) {
                throw reject("SignedHeaders lacks " + required + " (expected: " + REQUIRED_SIGNED + " signed)");
            }
        }
        for (String name : headers.keySet()) {
            if (!"authorization".equals(name) && !signed.contains(name)) {
                throw reject("header " + name + " is not signed (expected: every header signed)");
            }
        }
        for (String name : signed) {
            if (!headers.containsKey(name)) {
                throw reject("signed header " + name + " missing (expected: every signed header present)");
            }
        }
        if (!serverId.equals(headers.get(SERVER_ID_HEADER))) {
            throw reject("server id: " + clip(headers.get(SERVER_ID_HEADER)) + " (expected: " + serverId
                    + ", this ingress's ingress.iam.server-id)");
        }
        checkNonce(headers.get(NONCE_HEADER), nonce == null ? "" : nonce);
        if (!stsUrl.getRawAuthority().equalsIgnoreCase(headers.get("host"))) {
            throw reject("Host: " + clip(headers.get("host")) + " (expected: " + stsUrl.getRawAuthority() + ")");
        }
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(headers.get("x-amz-date"), AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw reject("X-Amz-Date: not yyyyMMddTHHmmssZ");
        }
        if (!headers.get("x-amz-date").startsWith(auth.group(2))) {
            throw reject("credential scope date " + auth.group(2) + " differs from X-Amz-Date");
        }
        Duration skew = Duration.between(clock.instant(), signedAt).abs();
        if (skew.compareTo(maxSkew) > 0) {
            throw reject("signed at " + signedAt + ", " + skew.toSeconds() + "s from now (expected: within "
                    + maxSkew.toSeconds() + "s; a replayed or stale proof, or a wrong clock)");
        }
        return new CheckedProof(proof.headers(), auth.group(1));
    }

    /**
     * The signed nonce must be this connection's (compared in constant time). Unsigned headers were
     * refused already, so a present nonce header is a signed one.
     */
    private void checkNonce(String signedNonce, String connectionNonce) {
        if (signedNonce == null) {
            if (requireNonce) {
                throw reject("no connection nonce signed (expected: the " + ConnectionNonce.HEADER + " of this "
                        + "connection's handshake among the signed headers; an agent older than this ingress?)");
            }
            return;
        }
        if (connectionNonce.isEmpty() || !java.security.MessageDigest.isEqual(
                signedNonce.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                connectionNonce.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            throw reject("signed nonce is not this connection's (expected: the " + ConnectionNonce.HEADER
                    + " of this handshake; a proof replayed from another connection)");
        }
    }

    /** Sends the checked request to the configured STS URL and reads the caller. Blocking. */
    IamIdentity send(CheckedProof proof) {
        HttpRequest.Builder request = HttpRequest.newBuilder(stsUrl)
                .timeout(timeout)
                .version(HttpClient.Version.HTTP_1_1)
                .header("Accept", "text/xml")
                .POST(HttpRequest.BodyPublishers.ofString(BODY));
        for (Map.Entry<String, String> header : proof.headers()) {
            // Host is restricted in java.net.http; it comes from stsUrl, which check() made equal to it
            if (!"host".equalsIgnoreCase(header.getKey())) {
                request.header(header.getKey(), header.getValue());
            }
        }
        HttpResponse<InputStream> response;
        byte[] body;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                body = in.readNBytes(MAX_RESPONSE_BYTES + 1);
            }
        } catch (IOException e) {
            throw reject("STS unreachable: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw reject("interrupted while calling STS");
        }
        if (body.length > MAX_RESPONSE_BYTES) {
            throw reject("STS answer larger than " + MAX_RESPONSE_BYTES + " bytes");
        }
        if (response.statusCode() != 200) {
            String code = StsAnswer.errorCode(body).orElse("no error code");
            throw reject("STS rejected the proof: " + code + " (HTTP " + response.statusCode() + ")");
        }
        return StsAnswer.caller(body);
    }

    /** Same scheme, host, port and path ({@code ""} = {@code /}); no query, fragment or user info. */
    static boolean sameUrl(String candidate, URI expected) {
        URI uri;
        try {
            uri = new URI(candidate);
        } catch (java.net.URISyntaxException e) {
            return false;
        }
        return uri.isAbsolute()
                && uri.getRawQuery() == null
                && uri.getRawFragment() == null
                && uri.getRawUserInfo() == null
                && expected.getScheme().equalsIgnoreCase(uri.getScheme())
                && expected.getHost().equalsIgnoreCase(String.valueOf(uri.getHost()))
                && port(expected) == port(uri)
                && path(expected).equals(path(uri));
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static String path(URI uri) {
        String path = uri.getRawPath();
        return path == null || path.isEmpty() ? "/" : path;
    }

    /** Echo at most a little of what the agent sent, so a message never carries a whole header. */
    private static String clip(String value) {
        if (value == null) {
            return "none";
        }
        String printable = value.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 80 ? printable : printable.substring(0, 80) + "…";
    }

    static IdentityRejection reject(String message) {
        return new IdentityRejection(RejectReason.IDENTITY_UNVERIFIED, "identity proof: " + message);
    }
}
