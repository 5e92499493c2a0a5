// Seeds a messages service over HTTP, one POST per record, the same way for every target:
//   node bench/seed.js http://127.0.0.1:3101 100
'use strict';

const [url, countText = '100'] = process.argv.slice(2);

async function main() {
  const count = Number(countText);
  for (let i = 1; i <= count; i++) {
    const reply = await fetch(`${url}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: `message ${i}`, userId: i % 10 })
    });
    if (reply.status !== 201) {
      throw new Error(`POST ${url}/messages answered ${reply.status}: ${await reply.text()}`);
    }
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
