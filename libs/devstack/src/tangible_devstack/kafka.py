"""Apache Kafka 4.x, KRaft single node, from Maven Central (no Docker, no tarball).

Maven resolves `org.apache.kafka:kafka_2.13` with its runtime dependencies into the
cache; the broker is the plain `kafka.Kafka` main class on that class path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tangible_devstack.paths import cache_dir
from tangible_devstack.processes import real_clock_env, spawn, terminate, wait_for_port

KAFKA_VERSION = os.environ.get("TANGIBLE_KAFKA_VERSION", "4.4.0")
LOG4J_VERSION = "2.25.5"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tangible</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def ensure_kafka_jars(version: str = KAFKA_VERSION) -> Path:
    """The broker's class path folder; fetched once with Maven, then reused."""
    home = cache_dir() / "kafka" / version
    libs = home / "libs"
    marker = home / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise RuntimeError(
            "Maven (mvn) is needed to fetch Apache Kafka; install it or set KAFKA_BOOTSTRAP_SERVERS"
        )
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION))
    shutil.rmtree(libs, ignore_errors=True)
    subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
        env=real_clock_env(),  # TLS to the registry needs the real date
    )
    marker.write_text(version)
    return libs


@dataclass
class KafkaBroker:
    """One KRaft node acting as broker and controller, heap capped for small machines."""

    data_dir: Path
    port: int = 19092
    controller_port: int = 19093
    heap_mb: int = 512
    version: str = KAFKA_VERSION
    # what the broker tells clients to connect to (default: its own port); a proxy in front
    # of the broker (fault injection) must be advertised, or clients bypass it after bootstrap
    advertised_port: int | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    def _write_config(self) -> Path:
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.advertised_port or self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    # topics are created explicitly, with their partition counts
                    "auto.create.topics.enable=false",
                    "num.partitions=1",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=6",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=1000",
                    # records carry their producer's time; under a faked date (the suite's
                    # any-date run) the Python side is years ahead of the broker, which by
                    # default refuses timestamps more than an hour in its future
                    "log.message.timestamp.after.max.ms=9223372036854775807",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2)
        return config

    def _java(self, libs: Path, *args: str, heap: bool = False) -> list[str]:
        java = shutil.which("java") or "java"
        flags = (
            [
                f"-Xmx{self.heap_mb}m",
                f"-Xms{min(256, self.heap_mb)}m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError",
            ]
            if heap
            else ["-Xmx256m"]
        )
        return [
            java,
            *flags,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            *args,
        ]

    def start(self, timeout: float = 90.0, *, wait: bool = True) -> None:
        libs = ensure_kafka_jars(self.version)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "logs" / "meta.properties").exists():
            cluster_id = uuid.uuid4().hex[:22]
            subprocess.run(
                self._java(
                    libs,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(config),
                    "--standalone",
                ),
                check=True,
                stdout=subprocess.DEVNULL,
                env=real_clock_env(),
            )
        self._process = spawn(
            self._java(libs, "kafka.Kafka", str(config), heap=True),
            log_path=self.log_path,
            env=real_clock_env(),
        )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 90.0) -> None:
        wait_for_port(self.port, timeout=timeout, process=self._process, what="Kafka broker")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process, timeout=30)
            self._process = None

    def kill(self) -> None:
        """SIGKILL, for fault tests."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None
