const path = require('path');
const simulate = require('miniprogram-simulate');
const {FakeServer, installFakeWx} = require('./fake-wx');

const ROOT = path.resolve(__dirname, '..');
let server;
let wxFake;

function renderPage() {
  const id = simulate.load(path.join(ROOT, 'pages/chat/chat'), {compiler: 'simulate', rootPath: ROOT});
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

beforeEach(() => {
  server = new FakeServer();
  wxFake = installFakeWx(server);
});

test('smoke', async () => {
  const page = renderPage();
  await page.instance.ready;
  console.log(page.dom.innerHTML);
});
