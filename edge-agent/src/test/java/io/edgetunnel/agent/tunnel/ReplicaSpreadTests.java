package io.edgetunnel.agent.tunnel;

import static io.edgetunnel.agent.tunnel.ReplicaSpread.Decision.GIVE_UP;
import static io.edgetunnel.agent.tunnel.ReplicaSpread.Decision.KEEP;
import static io.edgetunnel.agent.tunnel.ReplicaSpread.Decision.MOVE;
import static io.edgetunnel.agent.tunnel.ReplicaSpread.Decision.PROMOTE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplicaSpreadTests {

    @Test
    void theSecondTunnelOnAReplicaMovesAndAReplacementOnANewReplicaTakesOver() {
        ReplicaSpread spread = new ReplicaSpread(2, true, 4);

        assertThat(spread.accepted(0, "a", 2)).isEqualTo(KEEP);
        assertThat(spread.accepted(1, "a", 2)).isEqualTo(MOVE);
        assertThat(spread.settled()).isFalse();
        assertThat(spread.replacementAccepted(1, "b", 2)).isEqualTo(PROMOTE);

        assertThat(spread.distinctReplicas()).isEqualTo(2);
        assertThat(spread.replicaOf(1)).isEqualTo("b");
        assertThat(spread.settled()).isTrue();
    }

    @Test
    void staysWhenTheIngressHasOneReplicaOrDoesNotSayOrSpreadingIsOff() {
        ReplicaSpread single = new ReplicaSpread(2, true, 4);
        single.accepted(0, "a", 1);
        assertThat(single.accepted(1, "a", 1)).isEqualTo(KEEP);

        ReplicaSpread unnamed = new ReplicaSpread(2, true, 4);
        unnamed.accepted(0, "", 1);
        assertThat(unnamed.accepted(1, "", 1)).isEqualTo(KEEP);
        assertThat(unnamed.distinctReplicas()).isZero();

        ReplicaSpread off = new ReplicaSpread(2, false, 4);
        off.accepted(0, "a", 3);
        assertThat(off.accepted(1, "a", 3)).isEqualTo(KEEP);

        ReplicaSpread oneTunnel = new ReplicaSpread(1, true, 4);
        assertThat(oneTunnel.accepted(0, "a", 3)).isEqualTo(KEEP);
    }

    @Test
    void retriesUpToTheBoundThenGivesUpOnce() {
        ReplicaSpread spread = new ReplicaSpread(2, true, 2);
        spread.accepted(0, "a", 2);

        assertThat(spread.accepted(1, "a", 2)).isEqualTo(MOVE);
        assertThat(spread.replacementAccepted(1, "a", 2)).isEqualTo(MOVE);
        assertThat(spread.replacementFailed(1)).isEqualTo(GIVE_UP);

        assertThat(spread.redials(1)).isEqualTo(2);
        assertThat(spread.settled()).isTrue();
        assertThat(spread.replicaOf(1)).isEqualTo("a");
    }

    @Test
    void aNewTunnelInTheSlotGetsAFreshBudget() {
        ReplicaSpread spread = new ReplicaSpread(2, true, 1);
        spread.accepted(0, "a", 2);
        spread.accepted(1, "a", 2);
        assertThat(spread.replacementAccepted(1, "a", 2)).isEqualTo(GIVE_UP);

        spread.cleared(1);

        assertThat(spread.redials(1)).isZero();
        assertThat(spread.accepted(1, "a", 2)).isEqualTo(MOVE);
    }

    @Test
    void onlyAsManyTunnelsMoveAsThereAreReplicasToReach() {
        ReplicaSpread spread = new ReplicaSpread(3, true, 4);
        spread.accepted(0, "a", 2);

        assertThat(spread.accepted(1, "a", 2)).isEqualTo(MOVE);
        assertThat(spread.accepted(2, "a", 2)).as("one move reaches both replicas").isEqualTo(KEEP);
        assertThat(spread.replacementAccepted(1, "b", 2)).isEqualTo(PROMOTE);
        assertThat(spread.distinctReplicas()).isEqualTo(2);
    }

    @Test
    void aReplacementNoLongerNeededIsDroppedWithoutAnotherAttempt() {
        ReplicaSpread spread = new ReplicaSpread(2, true, 4);
        spread.accepted(0, "a", 2);
        assertThat(spread.accepted(1, "a", 2)).isEqualTo(MOVE);

        // meanwhile tunnel 0 was lost and came back on b
        spread.cleared(0);
        spread.accepted(0, "b", 2);

        assertThat(spread.replacementAccepted(1, "b", 2)).isEqualTo(KEEP);
        assertThat(spread.settled()).isTrue();
        assertThat(spread.distinctReplicas()).isEqualTo(2);
    }
}
