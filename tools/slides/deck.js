/* gooknet classroom decks (tools/build_slides.py): reveal.js with slides that scroll.
   The presenter's keys (Right, Down, Page Down, Space, N: on; Left, Up, Page Up, Shift+Space, P: back) first page
   through the current slide, then go to the next one, sub-slides included (linear navigation). A page never cuts
   a figure that fits on the screen: it stops at the figure's top instead, so every figure is seen whole. */
(function () {
  "use strict";
  var OVERLAP = 72; // px of the previous screen still in view after paging down: the thread of the text
  var MARGIN = 12; // px kept above a figure that a page stops at
  var MIN_TABLE_PX = 11; // the smallest font a printed table is shrunk to
  // A line of a printed table: two spaces between columns, a box-drawing character, or a rule of - = _.
  var TABLE_LINE = /\S {2,}\S|[\u2500-\u257f]|^[\s=_-]{12,}$/;

  function current() {
    return Reveal.getCurrentSlide();
  }
  function bottom(slide) {
    return Math.max(0, slide.scrollHeight - slide.clientHeight);
  }
  function shown(el) {
    // drawn: checkVisibility is false inside a closed <details>, where getClientRects still finds boxes
    return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
  }

  // Where the next page of `slide` starts: a screen on, or the top of a figure that the screen would cut.
  function nextStop(slide) {
    var top = slide.scrollTop;
    var view = slide.clientHeight;
    var target = Math.min(top + view - OVERLAP, bottom(slide));
    var origin = slide.getBoundingClientRect().top - top;
    slide.querySelectorAll("img").forEach(function (img) {
      if (!shown(img)) return;
      var box = img.getBoundingClientRect();
      var y0 = box.top - origin;
      var y1 = y0 + box.height;
      // Not yet seen whole (its bottom is below the screen), cut by the next page's top, and small enough to show.
      if (y1 > top + view && y0 < target && box.height <= view - MARGIN) {
        target = Math.min(target, y0 - MARGIN);
      }
    });
    return Math.max(target, top + 1);
  }

  var landing = "top"; // where the next slide shown opens: "top", or "bottom" when stepping back into it

  function forward() {
    var slide = current();
    if (slide.scrollTop < bottom(slide) - 1) {
      slide.scrollTop = nextStop(slide);
    } else {
      landing = "top";
      Reveal.next();
    }
    update();
  }

  function backward() {
    var slide = current();
    if (slide.scrollTop > 1) {
      slide.scrollTop = Math.max(0, slide.scrollTop - (slide.clientHeight - OVERLAP));
    } else {
      landing = "bottom";
      Reveal.prev();
    }
    update();
  }

  // Shrink printed tables (torchinfo summaries, aligned columns) until no table line wraps and no rule sticks out;
  // prose lines still wrap, at spaces.
  function wrappedLines(pre) {
    var text = pre.textContent;
    var walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    var nodes = [];
    var offset = 0;
    while (walker.nextNode()) {
      nodes.push([walker.currentNode, offset]);
      offset += walker.currentNode.length;
    }
    function locate(index) {
      for (var i = nodes.length - 1; i >= 0; i--) {
        if (nodes[i][1] <= index) return [nodes[i][0], index - nodes[i][1]];
      }
      return [nodes[0][0], 0];
    }
    var wrapped = 0;
    var start = 0;
    text.split("\n").forEach(function (line) {
      var end = start + line.length;
      if (line.trim() && TABLE_LINE.test(line)) {
        var range = document.createRange();
        var a = locate(start);
        var b = locate(end);
        range.setStart(a[0], Math.min(a[1], a[0].length));
        range.setEnd(b[0], Math.min(b[1], b[0].length));
        var tops = {};
        Array.prototype.forEach.call(range.getClientRects(), function (r) {
          if (r.width > 0) tops[Math.round(r.top)] = true;
        });
        if (Object.keys(tops).length > 1) wrapped += 1;
      }
      start = end + 1;
    });
    return wrapped;
  }

  function fit(root) {
    root.querySelectorAll(".jp-RenderedText pre").forEach(function (pre) {
      if (pre.dataset.gkFitted || !shown(pre) || !pre.textContent) return;
      pre.dataset.gkFitted = "1";
      var size = parseFloat(getComputedStyle(pre).fontSize);
      while ((pre.scrollWidth > pre.clientWidth || wrappedLines(pre) > 0) && size > MIN_TABLE_PX) {
        size = Math.max(MIN_TABLE_PX, size - 0.5);
        pre.style.fontSize = size + "px";
        pre.classList.add("gk-fit");
      }
    });
  }

  var more = document.querySelector(".gk-more");
  function update() {
    var slide = current();
    if (!slide) return;
    fit(slide);
    more.classList.toggle("gk-on", slide.scrollTop < bottom(slide) - 1);
  }

  var keys = {};
  [39, 40, 34, 78, 76, 74].forEach(function (code) {
    keys[code] = forward; // Right, Down, Page Down, N, L, J
  });
  [37, 38, 33, 80, 72, 75].forEach(function (code) {
    keys[code] = backward; // Left, Up, Page Up, P, H, K
  });
  keys[32] = function (event) {
    if (event && event.shiftKey) backward();
    else forward();
  };

  Reveal.initialize({
    width: 1280,
    height: 720,
    disableLayout: true, // no scaling: the CSS lays each slide out at the screen's size, and a long one scrolls
    center: false,
    hash: true,
    controls: false,
    progress: true,
    slideNumber: "c/t",
    transition: "none",
    backgroundTransition: "none",
    navigationMode: "linear",
    scrollActivationWidth: 0,
    mouseWheel: false,
    keyboard: keys,
  }).then(function () {
    Reveal.on("slidechanged", function (event) {
      var slide = event.currentSlide;
      slide.scrollTop = landing === "bottom" ? bottom(slide) : 0;
      landing = "top";
      update();
    });
    document.addEventListener("scroll", update, true);
    document.querySelectorAll("details").forEach(function (details) {
      details.addEventListener("toggle", update);
    });
    window.addEventListener("resize", update);
    update();
    document.documentElement.dataset.gkReady = "1";
  });
})();
