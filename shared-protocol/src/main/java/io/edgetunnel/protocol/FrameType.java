package io.edgetunnel.protocol;

/** The type byte of each frame, as on the wire. */
enum FrameType {
    HELLO(0x01),
    ACCEPT(0x02),
    REJECT(0x03),
    REQUEST(0x10),
    RESPONSE(0x11),
    DATA(0x12),
    WINDOW_UPDATE(0x13),
    RESET(0x14),
    TRAILERS(0x15),
    PING(0x20),
    PONG(0x21),
    DRAIN(0x22),
    ROUTE_HEALTH(0x23);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    static FrameType of(int code) {
        return BY_CODE[code & 0xFF];
    }
}
