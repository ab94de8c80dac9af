package io.edgetunnel.ingress.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.testsupport.AbstractConfigurationContractTests;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The deployment contract against what the ingress binds (see the base class), and its listeners. */
class ConfigurationContractTests extends AbstractConfigurationContractTests {

    ConfigurationContractTests() {
        super("ingress");
    }

    @Test
    void portsAndPathsAreTheConfiguredOnes() {
        Map<String, Object> base = yaml.get("default");
        JsonNode ports = contract.get("ports");
        assertThat(base.get("server.port")).hasToString(ports.get("public").asString());
        assertThat(base.get("management.server.port")).hasToString(ports.get("management").asString());
        assertThat(base.get("ingress.tunnel.port")).hasToString(ports.get("tunnel").asString());
        assertThat(base.get("ingress.tunnel.path")).hasToString(contract.get("tunnelPath").asString());
        assertManagementEndpointsAreTheContractOnes();
    }
}
