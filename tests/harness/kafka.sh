#!/usr/bin/env bash
# Starts/stops a single-node Apache Kafka (KRaft, broker+controller) for tests.
#   tests/harness/kafka.sh start DIR   -> prints `export EMP_TEST_KAFKA_URL=kafka://127.0.0.1:PORT`
#   tests/harness/kafka.sh stop DIR    -> idempotent
# Kafka's jars come from Maven Central via tests/harness/kafka/pom.xml, cached in
# $EMP_KAFKA_LIBS (default: <repo>/build/kafka-libs) and fetched only when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libs="${EMP_KAFKA_LIBS:-$repo/build/kafka-libs}"

log() { echo "kafka.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

fetch_jars() {
  if compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then return; fi
  log "fetching Kafka jars into $libs"
  mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" >&2
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local dir="$1"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ -f "$dir/kafka.pid" ]] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    echo "export EMP_TEST_KAFKA_URL=kafka://127.0.0.1:$(cat "$dir/port")"
    return
  fi
  fetch_jars
  local port cport
  port="$(free_port)"
  cport="$(free_port)"
  while [[ "$cport" == "$port" ]]; do cport="$(free_port)"; done
  echo "$port" >"$dir/port"
  mkdir -p "$dir/logs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/logs
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.heartbeat.interval.ms=500
group.consumer.min.heartbeat.interval.ms=500
group.consumer.session.timeout.ms=6000
group.consumer.min.session.timeout.ms=6000
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
log.flush.interval.messages=1
PROPS
  cat >"$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
  local cluster_id
  cluster_id="$(python3 -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))')"
  local java_opts=(-Xmx512m -Xms256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
                   "-Dlog4j.configuration=file:$dir/log4j.properties")
  if ! java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    log "storage format failed:"; tail -n 30 "$dir/format.log" >&2; exit 1
  fi
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  local deadline=$((SECONDS + 90))
  until port_open "$port" && kcat -b "127.0.0.1:$port" -L -m 3 2>/dev/null | grep -q "1 brokers"; do
    if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
      log "broker exited during startup:"; tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 || true
      exit 1
    fi
    if ((SECONDS > deadline)); then
      log "broker not ready after 90 s:"; tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 || true
      stop "$dir"; exit 1
    fi
    sleep 0.5
  done
  log "broker ready on 127.0.0.1:$port (data in $dir)"
  echo "export EMP_TEST_KAFKA_URL=kafka://127.0.0.1:$port"
}

stop() {
  local dir="$1"
  [[ -f "$dir/kafka.pid" ]] || return 0
  local pid
  pid="$(cat "$dir/kafka.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/kafka.pid"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
  stop) [[ $# -eq 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
