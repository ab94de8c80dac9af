package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.testsupport.AbstractConfigurationContractTests;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The deployment contract against what the agent binds (see the base class), its listener and route syntax. */
class ConfigurationContractTests extends AbstractConfigurationContractTests {

    ConfigurationContractTests() {
        super("agent");
    }

    @Test
    void managementPortAndPathsAreTheConfiguredOnes() {
        Map<String, Object> base = yaml.get("default");
        // the agent's only listener is the management one
        assertThat(base.get("server.port")).hasToString(contract.get("ports").get("management").asString());
        assertManagementEndpointsAreTheContractOnes();
    }

    @Test
    void routesPatternOfTheTemplateIsAcceptedByTheRouteConverter() {
        Pattern routes = Pattern.compile(contract.get("routesPattern").asString());
        String example = "shop.example.com=http://127.0.0.1:3000,*.api.example.com/v1=http://127.0.0.1:4000;"
                + "health-check.path=/healthz?deep=1;health-check.interval=10s;health-check.failure-threshold=2;"
                + "protocol=h2c";
        assertThat(routes.matcher(example).matches()).isTrue();
        RouteStringConverter converter = new RouteStringConverter();
        for (String route : example.split(",")) {
            assertThat(converter.convert(route).localUrl()).isNotNull();
        }
        assertThat(converter.convert(example.split(",")[1]).healthCheck())
                .isEqualTo(new HealthCheck("/healthz?deep=1", Duration.ofSeconds(10), Duration.ofSeconds(2), 2, 2));
        assertThat(converter.convert(example.split(",")[1]).protocol()).isEqualTo(LocalProtocol.H2C);
        // an option the converter would refuse is refused by the template already
        assertThat(routes.matcher("shop.example.com=http://127.0.0.1:3000;health=/healthz").matches()).isFalse();
    }
}
