// A minimal Socket.IO v5 client over an Engine.IO v4 websocket (no polling), for load where
// socket.io-client's own cost per message would dominate the measurement: it opens
// /socket.io/?EIO=4&transport=websocket, connects the main namespace ("40"), answers pings
// ("2" -> "3"), and hands every other text packet to the caller unparsed.
'use strict';

const WebSocket = require('ws');

// connect(url, onPacket) resolves with the ws once the server confirmed the namespace connect.
function connect(url, onPacket) {
  const target = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, { perMessageDeflate: false, skipUTF8Validation: true });
    let open = false;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const packet = data.toString();
      if (packet === '2') return ws.send('3');
      if (!open) {
        if (packet[0] === '0') return ws.send('40');
        if (packet.startsWith('40')) {
          open = true;
          return resolve(ws);
        }
        if (packet.startsWith('44')) return reject(new Error(`connect refused: ${packet}`));
      }
      onPacket(packet);
    });
    ws.on('error', (error) => (open ? undefined : reject(error)));
    ws.on('close', () => (open ? undefined : reject(new Error('closed before connect'))));
  });
}

module.exports = { connect };
