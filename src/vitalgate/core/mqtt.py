"""paho-mqtt 2.x driven from the asyncio loop through its socket callbacks (no network thread).

The pattern is aiomqtt's: paho tells us when its socket opens, closes and wants to write, and we
register loop readers/writers that call paho's loop_read/loop_write. On top of that this module
adds what VitalGate needs and aiomqtt lacks: `publish` that resolves on PUBACK, and manual
acknowledgement of received QoS 1 messages (ingest acks only after its database commit).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
import structlog
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vitalgate.core.settings import MqttConfig

log = structlog.get_logger(__name__)

# How many unacknowledged messages a consumer may hold. MQTT v5 tells the broker (Receive
# Maximum); for 3.1.1 brokers we stop reading the socket when the queue is this full.
DEFAULT_RECEIVE_MAXIMUM = 5000
PERSISTENT_SESSION_EXPIRY_S = 7 * 24 * 3600


class MqttError(ConnectionError):
    """The broker refused, or the connection dropped before an acknowledgement."""


@dataclass(frozen=True, slots=True)
class Message:
    """A received application message; call `AsyncMqttClient.ack(message)` once it is handled."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool


@dataclass(slots=True)
class Will:
    """Last will: what the broker publishes for us if we vanish."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(slots=True)
class _Pending:
    futures: dict[int, asyncio.Future[None]] = field(default_factory=dict)


class AsyncMqttClient:
    """One MQTT connection, owned by one asyncio loop."""

    def __init__(
        self,
        config: MqttConfig,
        client_id: str,
        *,
        clean_start: bool = False,
        will: Will | None = None,
        manual_ack: bool = False,
        receive_maximum: int = DEFAULT_RECEIVE_MAXIMUM,
        max_unacked_bytes: int | None = None,
        session_expiry_s: int | None = None,
    ) -> None:
        self._config = config
        self._client_id = client_id
        self._v5 = config.protocol == "5"
        self._clean_start = clean_start
        # A clean session is throw-away (expires on disconnect); a persistent one keeps unacked
        # messages for a week so a restarted consumer or hub resumes where it stopped.
        self._session_expiry_s = (
            session_expiry_s if session_expiry_s is not None else (0 if clean_start else PERSISTENT_SESSION_EXPIRY_S)
        )
        self._receive_maximum = receive_maximum
        # Receive Maximum counts messages, but memory is bytes: a consumer of 200 kB batches would
        # otherwise hold up to receive_maximum x 200 kB. With manual acks we also stop reading the
        # socket while this many payload bytes are unacknowledged (TCP then slows the broker).
        self._max_unacked_bytes = max_unacked_bytes if manual_ack else None
        self._unacked_bytes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5 if self._v5 else paho.MQTTv311,
            clean_session=None if self._v5 else clean_start,
            manual_ack=manual_ack,
        )
        # paho queues QoS>0 messages beyond this; we bound them ourselves (the outbox is the buffer).
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(0)
        if config.username:
            password = config.password.get_secret_value() if config.password else None
            self._client.username_pw_set(config.username, password)
        if config.tls:
            context = ssl.create_default_context(cafile=str(config.tls_ca_file) if config.tls_ca_file else None)
            self._client.tls_set_context(context)
        if will is not None:
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self._client.on_socket_open = self._on_socket_open
        self._client.on_socket_close = self._on_socket_close
        self._client.on_socket_register_write = self._on_register_write
        self._client.on_socket_unregister_write = self._on_unregister_write
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._pending = _Pending()
        self._subscribe_futures: dict[int, asyncio.Future[list[Any]]] = {}
        self._connected: asyncio.Future[None] | None = None
        self._disconnected = asyncio.Event()
        self._misc_task: asyncio.Task[None] | None = None
        self._reading_paused = False
        self._sock: Any = None
        self.messages: asyncio.Queue[Message] = asyncio.Queue()

    # -- public API -----------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._client.is_connected()

    @property
    def disconnected(self) -> bool:
        """True once the connection was lost or closed, until the next connect()."""
        return self._disconnected.is_set()

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the TCP/TLS connection and wait for CONNACK; raises MqttError on refusal."""
        self._loop = asyncio.get_running_loop()
        self._disconnected.clear()
        self._connected = self._loop.create_future()
        properties = None
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self._session_expiry_s
            properties.ReceiveMaximum = min(self._receive_maximum, 65535)
        kwargs: dict[str, Any] = {"keepalive": self._config.keepalive_s, "properties": properties}
        if self._v5:
            kwargs["clean_start"] = self._clean_start
        try:
            # The TCP connect is blocking in paho; run it off-loop (as aiomqtt does), nothing else is.
            rc = await asyncio.wait_for(
                asyncio.to_thread(self._client.connect, self._config.host, self._config.port, **kwargs), timeout
            )
        except (TimeoutError, OSError) as exc:
            raise MqttError(f"cannot reach MQTT broker {self._config.describe()}: {exc}") from exc
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttError(f"MQTT connect failed: {paho.error_string(rc)}")
        # The socket-open callback fired in the worker thread; register it on our loop now.
        self._attach_socket(self._client.socket())
        if self._client.want_write():
            self._on_register_write(self._client, None, self._client.socket())
        self._misc_task = asyncio.create_task(self._misc_loop(), name=f"mqtt-misc-{self._client_id}")
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError as exc:
            await self.disconnect()
            raise MqttError(f"no CONNACK from {self._config.describe()} within {timeout}s") from exc

    async def disconnect(self) -> None:
        """Send DISCONNECT (no last will) and release the socket."""
        if self._client.is_connected():
            self._client.disconnect()
            try:
                await asyncio.wait_for(self._disconnected.wait(), 5)
            except TimeoutError:
                log.warning("mqtt.disconnect_timeout", client_id=self._client_id)
        self._detach_socket()
        if self._misc_task is not None:
            self._misc_task.cancel()
            self._misc_task = None
        self._fail_pending(MqttError("disconnected"))

    async def wait_disconnected(self) -> None:
        """Return when the connection is lost (or closed)."""
        await self._disconnected.wait()

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, timeout: float = 30.0
    ) -> None:
        """Publish and, for QoS 1, wait for the broker's PUBACK."""
        if not self._client.is_connected():
            raise MqttError("not connected")
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish refused locally: {paho.error_string(info.rc)}")
        if qos == 0:
            return
        assert self._loop is not None
        future = self._pending.futures.get(info.mid)
        if future is None:
            future = self._loop.create_future()
            self._pending.futures[info.mid] = future
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError as exc:
            raise MqttError(f"no PUBACK within {timeout}s") from exc
        finally:
            self._pending.futures.pop(info.mid, None)

    async def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe and wait for SUBACK; a refused subscription raises MqttError."""
        assert self._loop is not None
        rc, mid = self._client.subscribe(topic, qos=qos)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise MqttError(f"subscribe refused locally: {paho.error_string(rc)}")
        future = self._loop.create_future()
        self._subscribe_futures[mid] = future
        try:
            reason_codes = await asyncio.wait_for(future, timeout)
        finally:
            self._subscribe_futures.pop(mid, None)
        for code in reason_codes:
            value = code.value if hasattr(code, "value") else int(code)
            if value >= 0x80:
                raise MqttError(f"broker refused subscription to {topic!r}: {code} (0x{value:02x})")

    def ack(self, message: Message) -> None:
        """Acknowledge a received QoS>0 message (manual-ack mode)."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)
        self._unacked_bytes -= len(message.payload)
        if self._reading_paused and not self._over_limit(half=True):
            self._resume_reading()

    # -- paho callbacks (run inside loop_read/loop_write on our loop) ----------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if self._connected is None or self._connected.done():
            return
        if reason_code.is_failure:
            self._connected.set_exception(MqttError(f"broker refused connection: {reason_code}"))
        else:
            self._connected.set_result(None)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._disconnected.set()
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(MqttError(f"disconnected before CONNACK: {reason_code}"))
        self._fail_pending(MqttError(f"connection lost: {reason_code}"))

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        future = self._pending.futures.get(mid)
        if future is None:
            assert self._loop is not None
            # PUBACK raced ahead of publish() registering its future; leave a resolved one.
            future = self._loop.create_future()
            self._pending.futures[mid] = future
        if future.done():
            return
        if getattr(reason_code, "is_failure", False):
            future.set_exception(MqttError(f"broker rejected publish: {reason_code}"))
        else:
            future.set_result(None)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        future = self._subscribe_futures.get(mid)
        if future is not None and not future.done():
            future.set_result(list(reason_codes))

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        self.messages.put_nowait(Message(msg.topic, bytes(msg.payload), msg.qos, msg.mid, bool(msg.retain)))
        self._unacked_bytes += len(msg.payload)
        # Backpressure for brokers without Receive Maximum, and by bytes: stop reading until the
        # consumer catches up.
        if not self._reading_paused and self._over_limit(half=False):
            self._pause_reading()

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is not None and self._loop_is_current():
            self._attach_socket(sock)

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._detach_socket()

    def _on_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is None or sock is None or not self._loop_is_current():
            return
        self._loop.add_writer(sock, self._client.loop_write)

    def _on_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is not None and sock is not None and self._loop_is_current():
            self._loop.remove_writer(sock)

    # -- helpers ---------------------------------------------------------------------------------

    def _loop_is_current(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _attach_socket(self, sock: Any) -> None:
        if sock is None or sock is self._sock:
            return
        assert self._loop is not None
        self._sock = sock
        self._loop.add_reader(sock, self._read)

    def _detach_socket(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock)
            self._loop.remove_writer(self._sock)
        self._sock = None

    def _read(self) -> None:
        rc = self._client.loop_read(max_packets=100)
        if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            self._detach_socket()
            self._disconnected.set()
            self._fail_pending(MqttError(f"connection lost: {paho.error_string(rc)}"))

    def _over_limit(self, *, half: bool) -> bool:
        """Too much received and not yet handled (resume only below half, to avoid flapping)."""
        divisor = 2 if half else 1
        if self.messages.qsize() >= self._receive_maximum // divisor:
            return True
        return self._max_unacked_bytes is not None and self._unacked_bytes >= self._max_unacked_bytes // divisor

    def _pause_reading(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock)
            self._reading_paused = True
            log.debug("mqtt.backpressure_paused", queued=self.messages.qsize(), unacked_bytes=self._unacked_bytes)

    def _resume_reading(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.add_reader(self._sock, self._read)
        self._reading_paused = False

    def _fail_pending(self, exc: Exception) -> None:
        for future in self._pending.futures.values():
            if not future.done():
                future.set_exception(exc)
        self._pending.futures.clear()
        for subscribed in self._subscribe_futures.values():
            if not subscribed.done():
                subscribed.set_exception(exc)

    async def _misc_loop(self) -> None:
        """Keep-alive pings and retries; paho needs loop_misc about once a second."""
        while True:
            await asyncio.sleep(1)
            if self._client.loop_misc() == MQTTErrorCode.MQTT_ERR_NO_CONN:
                self._disconnected.set()
                self._fail_pending(MqttError("connection lost"))
                return
