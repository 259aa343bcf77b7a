// patchbay's dashboard works without this script; with it, the key menu
// opens in place, confirmations are dialogs, and copy buttons copy.
(function () {
  'use strict';

  // Without this script the menus' items are plain links under each row;
  // with it they fold into the options buttons.
  document.documentElement.classList.add('js');
  document.querySelectorAll('[data-menu] [role="menu"]').forEach(function (m) { m.hidden = true; });

  function closeMenu(menu, focusButton) {
    var button = menu.querySelector('.menu-button');
    var list = menu.querySelector('[role="menu"]');
    list.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focusButton) button.focus();
  }

  function openMenu(menu) {
    document.querySelectorAll('[data-menu]').forEach(function (m) { if (m !== menu) closeMenu(m, false); });
    var button = menu.querySelector('.menu-button');
    var list = menu.querySelector('[role="menu"]');
    list.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    var first = list.querySelector('[role="menuitem"]');
    if (first) first.focus();
  }

  document.addEventListener('click', function (e) {
    var button = e.target.closest('.menu-button');
    if (button) {
      var menu = button.closest('[data-menu]');
      if (button.getAttribute('aria-expanded') === 'true') closeMenu(menu, true); else openMenu(menu);
      return;
    }
    var item = e.target.closest('[data-dialog]');
    if (item) {
      var dialog = document.getElementById(item.getAttribute('data-dialog'));
      if (dialog && dialog.showModal) {
        e.preventDefault();
        var m = item.closest('[data-menu]');
        if (m) closeMenu(m, false);
        dialog.showModal();
      }
      return;
    }
    var close = e.target.closest('[data-close]');
    if (close) {
      close.closest('dialog').close();
      return;
    }
    var copy = e.target.closest('[data-copy]');
    if (copy) {
      var field = document.getElementById(copy.getAttribute('data-copy'));
      field.select();
      var done = function () { copy.textContent = 'Copied'; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand('copy'); done(); });
      } else {
        document.execCommand('copy');
        done();
      }
      return;
    }
    document.querySelectorAll('[data-menu]').forEach(function (m) {
      if (!m.contains(e.target)) closeMenu(m, false);
    });
  });

  document.addEventListener('keydown', function (e) {
    var menu = e.target.closest && e.target.closest('[data-menu]');
    if (!menu) return;
    var items = Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
    var i = items.indexOf(e.target);
    if (e.key === 'Escape') {
      closeMenu(menu, true);
    } else if (e.key === 'ArrowDown' && e.target.classList.contains('menu-button')) {
      e.preventDefault();
      openMenu(menu);
    } else if (i >= 0 && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      var next = items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length];
      next.focus();
    }
  });

  document.querySelectorAll('[data-switcher] select').forEach(function (select) {
    select.addEventListener('change', function () { select.form.submit(); });
  });
})();
