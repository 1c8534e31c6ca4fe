// Shared by the Ant Media example pages: the WebSocket URL of this gateway and a logger.
"use strict";
const WS_URL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/WebRTCAppEE/websocket`;
// The SDK's periodic callbacks, left out of the log.
const PERIODIC = ["pong", "bitrateMeasurement"];
function log(line) {
  if (!PERIODIC.includes(line)) document.getElementById("log").textContent += line + "\n";
}
function adaptor(extra) {
  return new webrtc_adaptor.WebRTCAdaptor(Object.assign({
    websocket_url: WS_URL,
    mediaConstraints: {video: true, audio: true},
    peerconnection_config: {iceServers: [], sdpSemantics: "unified-plan"},
    sdp_constraints: {OfferToReceiveAudio: false, OfferToReceiveVideo: false},
    debug: false,
    callbackError: (error, message) => log(`error: ${error} ${JSON.stringify(message) || ""}`),
  }, extra));
}
