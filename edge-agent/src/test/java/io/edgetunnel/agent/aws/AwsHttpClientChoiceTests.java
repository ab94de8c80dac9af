package io.edgetunnel.agent.aws;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The AWS SDK's Netty client clashes with Boot's Netty 4.2, so the agent's AWS clients use
 * url-connection-client and the Netty one must not reach the classpath (the test classpath holds
 * every runtime dependency, so its absence here means its absence in the service).
 */
class AwsHttpClientChoiceTests {

    @Test
    void theSdksNettyClientIsNotOnTheClasspathAndUrlConnectionIs() {
        assertThatThrownBy(() -> Class.forName("software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient"))
                .isInstanceOf(ClassNotFoundException.class);
        assertThatCode(() -> Class.forName("software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient"))
                .doesNotThrowAnyException();
    }
}
