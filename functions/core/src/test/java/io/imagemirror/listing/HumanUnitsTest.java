package io.imagemirror.listing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HumanUnitsTest {

    @Test
    void sizesUseDecimalUnitsWithThreeSignificantDigits() {
        assertThat(HumanUnits.size(0)).isEqualTo("0B");
        assertThat(HumanUnits.size(512)).isEqualTo("512B");
        assertThat(HumanUnits.size(7_800_000)).isEqualTo("7.8MB");
        assertThat(HumanUnits.size(5_612_345)).isEqualTo("5.61MB");
        assertThat(HumanUnits.size(133_000_000)).isEqualTo("133MB");
        assertThat(HumanUnits.size(1_234_567_890)).isEqualTo("1.23GB");
        assertThat(HumanUnits.size(999_999)).isEqualTo("1MB");
        assertThat(HumanUnits.size(1000)).isEqualTo("1kB");
    }

    @Test
    void agesUseTheCoarsestUnitThatFits() {
        assertThat(HumanUnits.duration(Duration.ofMillis(400))).isEqualTo("Less than a second");
        assertThat(HumanUnits.duration(Duration.ofSeconds(1))).isEqualTo("1 second");
        assertThat(HumanUnits.duration(Duration.ofSeconds(45))).isEqualTo("45 seconds");
        assertThat(HumanUnits.duration(Duration.ofSeconds(90))).isEqualTo("About a minute");
        assertThat(HumanUnits.duration(Duration.ofMinutes(59))).isEqualTo("59 minutes");
        assertThat(HumanUnits.duration(Duration.ofMinutes(80))).isEqualTo("About an hour");
        assertThat(HumanUnits.duration(Duration.ofHours(47))).isEqualTo("47 hours");
        assertThat(HumanUnits.duration(Duration.ofDays(3))).isEqualTo("3 days");
        assertThat(HumanUnits.duration(Duration.ofDays(20))).isEqualTo("2 weeks");
        assertThat(HumanUnits.duration(Duration.ofDays(100))).isEqualTo("3 months");
        assertThat(HumanUnits.duration(Duration.ofDays(800))).isEqualTo("2 years");
    }
}
