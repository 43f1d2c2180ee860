/**
 * For `locator.evaluateAll` in a page: each image's alt text, natural width and the share of its
 * pixels that are not background once drawn on white (an image that failed to decode leaves
 * every pixel white). Self-contained: Playwright runs its source in the page.
 */
export function imageInk(imgs: Element[]): { alt: string; width: number; inked: number }[] {
  return (imgs as HTMLImageElement[]).map((img) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(img, 0, 0);
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    for (let i = 0; i < data.length; i += 4)
      if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) inked++;
    return { alt: img.alt, width: img.naturalWidth, inked: inked / (data.length / 4) };
  });
}
