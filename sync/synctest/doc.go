// Package synctest starts MQTT brokers for fleet sync tests: an in-process
// mochi-mqtt broker (StartMochi) and Debian's real Mosquitto on a free
// 127.0.0.1 port with a generated configuration (StartMosquitto), which a
// test can kill, restart, and lock down with passwords and ACLs. Both
// listen on loopback only.
package synctest
