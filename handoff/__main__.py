from handoff.cli import main

raise SystemExit(main())
