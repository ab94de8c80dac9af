package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.ClassPathResource;

class AgentPropertiesTests {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(AgentProperties.class)
    static class PropertiesOnly {
        @Bean
        @ConfigurationPropertiesBinding
        static RouteStringConverter routeStringConverter() {
            return new RouteStringConverter();
        }
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(PropertiesOnly.class);

    @Test
    void bindsRoutesFromYamlList() {
        runner.withInitializer(context -> {
                    try {
                        new YamlPropertySourceLoader()
                                .load("routes-list", new ClassPathResource("routes-list.yaml"))
                                .forEach(source -> context.getEnvironment().getPropertySources().addFirst(source));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .run(context -> {
                    AgentProperties properties = context.getBean(AgentProperties.class);
                    assertThat(properties.routes())
                            .containsExactly(
                                    new Route("demo.localhost", "/", URI.create("http://127.0.0.1:3000")),
                                    new Route("api.example.com", "/api", URI.create("http://127.0.0.1:4000")));
                    assertThat(properties.token()).isEqualTo("s3cret");
                });
    }

    @Test
    void bindsRoutesAndUriFromEnvironmentVariables() {
        Map<String, Object> env = Map.of(
                "AGENT_INGRESS_URI", "wss://ingress.example.com:8443/tunnel",
                "AGENT_ROUTES", "demo.localhost=http://127.0.0.1:3000,api.example.com/api=http://127.0.0.1:4000",
                "AGENT_TUNNEL_COUNT", "2",
                "AGENT_LOCAL_RESPONSE_TIMEOUT", "5s");
        runner.withInitializer(context -> context.getEnvironment()
                        .getPropertySources()
                        .addFirst(new SystemEnvironmentPropertySource(
                                "test-" + StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    AgentProperties properties = context.getBean(AgentProperties.class);
                    assertThat(properties.ingressUri()).isEqualTo(URI.create("wss://ingress.example.com:8443/tunnel"));
                    assertThat(properties.routes())
                            .containsExactly(
                                    new Route("demo.localhost", "/", URI.create("http://127.0.0.1:3000")),
                                    new Route("api.example.com", "/api", URI.create("http://127.0.0.1:4000")));
                    assertThat(properties.tunnelCount()).isEqualTo(2);
                    assertThat(properties.local().responseTimeout()).isEqualTo(Duration.ofSeconds(5));
                });
    }

    @Test
    void appliesDefaults() {
        runner.withPropertyValues("agent.ingress-uri=ws://127.0.0.1:8082/tunnel", "agent.routes=a.example=http://127.0.0.1:1")
                .run(context -> {
                    AgentProperties properties = context.getBean(AgentProperties.class);
                    assertThat(properties.id()).isNotBlank();
                    assertThat(properties.token()).isEmpty();
                    assertThat(properties.tunnelCount()).isEqualTo(2);
                    assertThat(properties.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(properties.reconnect().minBackoff()).isEqualTo(Duration.ofMillis(500));
                    assertThat(properties.reconnect().maxBackoff()).isEqualTo(Duration.ofSeconds(30));
                    assertThat(properties.local().connectTimeout()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(properties.local().responseTimeout()).isEqualTo(Duration.ofSeconds(60));
                    assertThat(properties.local().maxConnections()).isEqualTo(500);
                    assertThat(properties.maxFrameBytes()).isEqualTo(262144);
                    assertThat(properties.drainTimeout()).isEqualTo(Duration.ofSeconds(20));
                    assertThat(properties.spread().enabled()).isTrue();
                    assertThat(properties.spread().maxRedials()).isEqualTo(4);
                    assertThat(properties.routes().get(0).pathPrefix()).isEqualTo("/");
                });
    }

    @Test
    void failsNamingTheRoutesPropertyWhenThereAreNone() {
        runner.withPropertyValues("agent.ingress-uri=ws://127.0.0.1:8082/tunnel").run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure())).contains("agent").contains("routes");
        });
    }

    @Test
    void failsNamingThePropertyForABadLocalUrl() {
        runner.withPropertyValues(
                        "agent.ingress-uri=ws://127.0.0.1:8082/tunnel",
                        "agent.routes[0].host=demo.localhost",
                        "agent.routes[0].local-url=ftp://127.0.0.1:3000")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure()))
                            .contains("agent.routes[0]")
                            .contains("localUrl: ftp://127.0.0.1:3000");
                });
    }

    @Test
    void failsNamingThePropertyForABadRouteString() {
        runner.withPropertyValues("agent.ingress-uri=ws://127.0.0.1:8082/tunnel", "agent.routes=demo.localhost")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure()))
                            .contains("agent.routes")
                            .contains("expected: host[/path-prefix]=http://host:port");
                });
    }

    @Test
    void bindsAHealthCheckFromRouteProperties() {
        runner.withPropertyValues(
                        "agent.ingress-uri=ws://127.0.0.1:8082/tunnel",
                        "agent.routes[0].host=demo.localhost",
                        "agent.routes[0].local-url=http://127.0.0.1:3000",
                        "agent.routes[0].health-check.path=/healthz",
                        "agent.routes[0].health-check.interval=200ms",
                        "agent.routes[0].health-check.failure-threshold=5",
                        "agent.routes[1].host=other.localhost",
                        "agent.routes[1].local-url=http://127.0.0.1:4000")
                .run(context -> {
                    AgentProperties properties = context.getBean(AgentProperties.class);
                    assertThat(properties.routes().get(0).healthCheck())
                            .isEqualTo(new HealthCheck("/healthz", Duration.ofMillis(200), Duration.ofSeconds(2), 5, 2));
                    assertThat(properties.routes().get(1).healthCheck()).isEqualTo(HealthCheck.NONE);
                });
    }

    @Test
    void bindsAHealthCheckFromTheRoutesString() {
        runner.withPropertyValues(
                        "agent.ingress-uri=ws://127.0.0.1:8082/tunnel",
                        "agent.routes=a.example=http://127.0.0.1:3000;health-check.path=/healthz?full=1;"
                                + "health-check.interval=1s;health-check.timeout=300ms;"
                                + "health-check.failure-threshold=2;health-check.success-threshold=1,"
                                + "b.example/api=http://127.0.0.1:4000")
                .run(context -> {
                    AgentProperties properties = context.getBean(AgentProperties.class);
                    assertThat(properties.routes().get(0)).isEqualTo(new Route("a.example", "/",
                            URI.create("http://127.0.0.1:3000"),
                            new HealthCheck("/healthz?full=1", Duration.ofSeconds(1), Duration.ofMillis(300), 2, 1)));
                    assertThat(properties.routes().get(1)).isEqualTo(
                            new Route("b.example", "/api", URI.create("http://127.0.0.1:4000")));
                });
    }

    @Test
    void failsNamingAnUnknownOrBadRouteStringOption() {
        runner.withPropertyValues("agent.ingress-uri=ws://127.0.0.1:8082/tunnel",
                        "agent.routes=a.example=http://127.0.0.1:3000;health=/healthz")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure()))
                            .contains("agent.routes")
                            .contains("route a.example: unknown option health (expected: health-check.path");
                });
        runner.withPropertyValues("agent.ingress-uri=ws://127.0.0.1:8082/tunnel",
                        "agent.routes=a.example=http://127.0.0.1:3000;health-check.path=/h;health-check.failure-threshold=x")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure()))
                            .contains("route a.example: health-check.failure-threshold=x (expected: a whole number)");
                });
    }

    @Test
    void failsNamingThePropertyForAnHttpIngressUri() {
        runner.withPropertyValues("agent.ingress-uri=http://127.0.0.1:8082/tunnel", "agent.routes=a.example=http://127.0.0.1:1")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure())).contains("agent.ingress-uri");
                });
    }

    @Test
    void failsWithoutIngressUri() {
        runner.withPropertyValues("agent.routes=a.example=http://127.0.0.1:1").run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure())).contains("agent.ingress-uri");
        });
    }

    private static String messages(Throwable failure) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            text.append(t.getMessage()).append('\n');
        }
        return text.toString();
    }
}
