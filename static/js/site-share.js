// A site's page: share its link (the system's share sheet on phones, else copied) and print
// it (the print stylesheet lays the page out for paper). The link stays visible as text
// without JavaScript.
const box = document.getElementById('site-share');
if (box) {
  const input = box.querySelector('.site-share__url');
  const status = box.querySelector('.site-share__status');
  const share = box.querySelector('[data-share]');
  const print = box.querySelector('[data-print]');
  share.hidden = false;
  print.hidden = false;
  share.addEventListener('click', async () => {
    const url = input.value;
    if (navigator.share) {
      try {
        await navigator.share({ title: box.dataset.title, url });
        return;
      } catch {
        // cancelled or refused: fall back to copying
      }
    }
    input.select();
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      document.execCommand?.('copy');
    }
    status.textContent = box.dataset.copied;
  });
  print.addEventListener('click', () => window.print());
}
