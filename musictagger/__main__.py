from musictagger.cli import main

raise SystemExit(main())
